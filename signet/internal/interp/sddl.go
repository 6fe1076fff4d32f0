package interp

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// This file parses security descriptors in SDDL (the string form Windows
// prints with ConvertSecurityDescriptorToStringSecurityDescriptorW) and
// decides whether a file or directory is safe to trust. It is pure Go so the
// rule is unit-tested everywhere; only fetching the string is Windows code.

// securityDescriptor is the part of a security descriptor the rule needs.
type securityDescriptor struct {
	Owner string // SID string or SDDL abbreviation, e.g. "BA", "S-1-5-18"
	Group string
	// NullDACL is true when the descriptor has no DACL (no "D:" section)
	// or says D:NO_ACCESS_CONTROL: everyone has full access.
	NullDACL bool
	ACEs     []accessEntry
}

// accessEntry is one ACE of the DACL.
type accessEntry struct {
	Type        string // "A", "D", "OA", "OD", "XA", "XD", "ZA"
	InheritOnly bool   // "IO" flag: applies to children only, not the object
	Rights      uint32
	SID         string
}

// Access rights (winnt.h). For files and directories the SDDL letters named
// after directory-service rights map onto the same bits (see sddlRights): DC
// is FILE_WRITE_DATA/FILE_ADD_FILE, LC FILE_APPEND_DATA/FILE_ADD_SUBDIRECTORY,
// RP FILE_WRITE_EA, DT FILE_DELETE_CHILD, CR FILE_WRITE_ATTRIBUTES.
const (
	rightWriteData      = 0x2        // FILE_WRITE_DATA, FILE_ADD_FILE
	rightAppendData     = 0x4        // FILE_APPEND_DATA, FILE_ADD_SUBDIRECTORY
	rightWriteEA        = 0x10       // FILE_WRITE_EA
	rightDeleteChild    = 0x40       // FILE_DELETE_CHILD
	rightWriteAttribute = 0x100      // FILE_WRITE_ATTRIBUTES
	rightDelete         = 0x10000    // DELETE
	rightWriteDAC       = 0x40000    // WRITE_DAC
	rightWriteOwner     = 0x80000    // WRITE_OWNER
	rightMaximum        = 0x2000000  // MAXIMUM_ALLOWED
	rightGenericAll     = 0x10000000 // GENERIC_ALL
	rightGenericWrite   = 0x40000000 // GENERIC_WRITE
)

// Masks of the rights that fail each level of the rule.
const (
	// maskAncestor: rights on a directory above the checked path that let
	// someone delete, rename, re-own or re-permission what is below. Adding
	// new entries is allowed here (C:\ lets Authenticated Users create
	// folders), since no checked path depends on a name that is missing.
	maskAncestor = rightDelete | rightDeleteChild | rightWriteDAC | rightWriteOwner | rightGenericAll | rightMaximum
	// maskNoNewFiles: an ancestor in which a new file must not appear (the
	// directory one level above python.exe, where pyvenv.cfg is looked for).
	maskNoNewFiles = maskAncestor | rightWriteData | rightGenericWrite
	// maskTarget: the interpreter, each trust path, python.exe's directory
	// and the parent of a missing trust path: no write-type right at all.
	maskTarget = maskNoNewFiles | rightAppendData | rightWriteEA | rightWriteAttribute
)

// sddlRights maps the two-letter SDDL access right codes to bits.
var sddlRights = map[string]uint32{
	"GA": rightGenericAll, "GR": 0x80000000, "GW": rightGenericWrite, "GX": 0x20000000,
	"RC": 0x20000, "SD": rightDelete, "WD": rightWriteDAC, "WO": rightWriteOwner,
	"CC": 0x1, "DC": rightWriteData, "LC": rightAppendData, "SW": 0x8, "RP": rightWriteEA,
	"WP": 0x20, "DT": rightDeleteChild, "LO": 0x80, "CR": rightWriteAttribute,
	"FA": 0x1f01ff, "FR": 0x120089, "FW": 0x120116, "FX": 0x1200a0,
	"KA": 0xf003f, "KR": 0x20019, "KW": 0x20006, "KX": 0x20019,
	"NR": 0x1, "NW": 0x2, "NX": 0x4,
}

// writeRightNames names the write-type bits in problems.
var writeRightNames = []struct {
	bit  uint32
	name string
}{
	{rightGenericAll, "GENERIC_ALL"}, {rightGenericWrite, "GENERIC_WRITE"}, {rightMaximum, "MAXIMUM_ALLOWED"},
	{rightWriteData, "WRITE_DATA/ADD_FILE"}, {rightAppendData, "APPEND_DATA/ADD_SUBDIRECTORY"},
	{rightWriteEA, "WRITE_EA"}, {rightDeleteChild, "DELETE_CHILD"}, {rightWriteAttribute, "WRITE_ATTRIBUTES"},
	{rightDelete, "DELETE"}, {rightWriteDAC, "WRITE_DAC"}, {rightWriteOwner, "WRITE_OWNER"},
}

// trustedSIDs may own and write interpreter files.
var trustedSIDs = []string{
	"SY", "S-1-5-18", // LocalSystem
	"BA", "S-1-5-32-544", // BUILTIN\Administrators
	"S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464", // NT SERVICE\TrustedInstaller
}

func isTrustedSID(sid string) bool {
	for _, t := range trustedSIDs {
		if strings.EqualFold(sid, t) {
			return true
		}
	}
	return false
}

// maxSDDL bounds the input; real descriptors are a few hundred bytes.
const maxSDDL = 64 << 10

var errSDDL = errors.New("malformed SDDL")

// parseSDDL parses an SDDL string. Only the owner, group and DACL are kept;
// a SACL section is skipped. Anything unexpected is an error: the caller
// refuses a path whose descriptor it cannot read.
func parseSDDL(s string) (securityDescriptor, error) {
	var sd securityDescriptor
	if len(s) > maxSDDL {
		return sd, fmt.Errorf("%w: %d bytes is too long", errSDDL, len(s))
	}
	sections, err := splitSections(s)
	if err != nil {
		return sd, err
	}
	sd.NullDACL = true
	for _, sec := range sections {
		switch sec.letter {
		case 'O':
			sd.Owner = sec.value
		case 'G':
			sd.Group = sec.value
		case 'D':
			sd.NullDACL, sd.ACEs, err = parseDACL(sec.value)
			if err != nil {
				return sd, err
			}
		case 'S':
			// The SACL (audit, integrity label) does not grant access.
		}
	}
	if sd.Owner == "" || !validSID(sd.Owner) {
		return sd, fmt.Errorf("%w: missing or bad owner %q", errSDDL, sd.Owner)
	}
	if sd.Group != "" && !validSID(sd.Group) {
		return sd, fmt.Errorf("%w: bad group %q", errSDDL, sd.Group)
	}
	return sd, nil
}

type section struct {
	letter byte
	value  string
}

// splitSections cuts "O:..G:..D:..S:.." at the colons outside parentheses;
// the letter before each colon names the section.
func splitSections(s string) ([]section, error) {
	var colons []int
	var n nesting
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !n.step(c) {
			continue
		}
		switch {
		case c == ')' && n.depth < 0:
			return nil, fmt.Errorf("%w: unbalanced ')' at byte %d", errSDDL, i)
		case c == ':' && n.depth == 0:
			colons = append(colons, i)
		}
	}
	if n.depth != 0 || n.inQuote {
		return nil, fmt.Errorf("%w: unbalanced parentheses or quotes", errSDDL)
	}
	if len(colons) == 0 || colons[0] != 1 {
		return nil, fmt.Errorf("%w: does not start with a section such as \"O:\"", errSDDL)
	}
	var out []section
	seen := map[byte]bool{}
	for n, c := range colons {
		letter := s[c-1]
		if !strings.ContainsRune("OGDS", rune(letter)) || seen[letter] {
			return nil, fmt.Errorf("%w: unknown or repeated section %q", errSDDL, string(letter))
		}
		seen[letter] = true
		end := len(s)
		if n+1 < len(colons) {
			end = colons[n+1] - 1
		}
		if end < c+1 {
			return nil, fmt.Errorf("%w: empty section %q", errSDDL, string(letter))
		}
		out = append(out, section{letter: letter, value: s[c+1 : end]})
	}
	return out, nil
}

// parseDACL parses "flags(ace)(ace)...".
func parseDACL(v string) (null bool, aces []accessEntry, err error) {
	flags, rest, found := strings.Cut(v, "(")
	if found {
		rest = "(" + rest
	}
	for f := flags; f != ""; {
		switch {
		case strings.HasPrefix(f, "NO_ACCESS_CONTROL"):
			null = true
			f = f[len("NO_ACCESS_CONTROL"):]
		case strings.HasPrefix(f, "AI"), strings.HasPrefix(f, "AR"):
			f = f[2:]
		case strings.HasPrefix(f, "P"):
			f = f[1:]
		default:
			return false, nil, fmt.Errorf("%w: unknown DACL flags %q", errSDDL, flags)
		}
	}
	for rest != "" {
		body, tail, err := cutACE(rest)
		if err != nil {
			return false, nil, err
		}
		a, err := parseACE(body)
		if err != nil {
			return false, nil, err
		}
		aces = append(aces, a)
		rest = tail
	}
	if null && len(aces) > 0 {
		return false, nil, fmt.Errorf("%w: NO_ACCESS_CONTROL with entries", errSDDL)
	}
	return null, aces, nil
}

// cutACE returns the body of the parenthesised ACE at the start of s and what follows.
func cutACE(s string) (body, tail string, err error) {
	if s[0] != '(' {
		return "", "", fmt.Errorf("%w: expected '(' in DACL at %q", errSDDL, s)
	}
	var n nesting
	for i := 0; i < len(s); i++ {
		if c := s[i]; n.step(c) && c == ')' && n.depth == 0 {
			return s[1:i], s[i+1:], nil
		}
	}
	return "", "", fmt.Errorf("%w: unterminated ACE", errSDDL)
}

// nesting follows parentheses and double-quoted strings (conditional ACEs) while an SDDL
// string is read byte by byte.
type nesting struct {
	depth   int
	inQuote bool
}

// step reads c and reports whether it is structure: outside quotes and not a quote itself.
func (n *nesting) step(c byte) bool {
	switch {
	case n.inQuote:
		n.inQuote = c != '"'
		return false
	case c == '"':
		n.inQuote = true
		return false
	case c == '(':
		n.depth++
	case c == ')':
		n.depth--
	}
	return true
}

// parseACE parses "type;flags;rights;object;inherit-object;sid[;(condition)]".
func parseACE(body string) (accessEntry, error) {
	var a accessEntry
	fields := strings.SplitN(body, ";", 7)
	if len(fields) < 6 {
		return a, fmt.Errorf("%w: ACE %q has %d fields, want 6", errSDDL, body, len(fields))
	}
	switch fields[0] {
	case "A", "OA", "XA", "ZA", "D", "OD", "XD":
		a.Type = fields[0]
	default:
		return a, fmt.Errorf("%w: ACE type %q is not allowed in a DACL", errSDDL, fields[0])
	}
	if len(fields) == 7 && !strings.HasPrefix(a.Type, "X") && a.Type != "ZA" {
		return a, fmt.Errorf("%w: ACE %q has a condition but is not a callback ACE", errSDDL, body)
	}
	flags := fields[1]
	if len(flags)%2 != 0 {
		return a, fmt.Errorf("%w: ACE flags %q", errSDDL, flags)
	}
	for i := 0; i < len(flags); i += 2 {
		switch f := flags[i : i+2]; f {
		case "IO":
			a.InheritOnly = true
		case "OI", "CI", "NP", "ID", "SA", "FA", "TP", "CR":
		default:
			return a, fmt.Errorf("%w: unknown ACE flag %q", errSDDL, f)
		}
	}
	rights, err := parseRights(fields[2])
	if err != nil {
		return a, err
	}
	a.Rights = rights
	a.SID = fields[5]
	if !validSID(a.SID) {
		return a, fmt.Errorf("%w: bad SID %q in ACE", errSDDL, a.SID)
	}
	return a, nil
}

// parseRights parses "0x1200a9", a decimal number, or letter pairs like "FA" / "GXGR".
func parseRights(s string) (uint32, error) {
	if s == "" {
		return 0, fmt.Errorf("%w: empty access rights", errSDDL)
	}
	if strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X") {
		v, err := strconv.ParseUint(s[2:], 16, 32)
		if err != nil {
			return 0, fmt.Errorf("%w: access rights %q: %v", errSDDL, s, err)
		}
		return uint32(v), nil
	}
	if s[0] >= '0' && s[0] <= '9' {
		v, err := strconv.ParseUint(s, 10, 32)
		if err != nil {
			return 0, fmt.Errorf("%w: access rights %q: %v", errSDDL, s, err)
		}
		return uint32(v), nil
	}
	if len(s)%2 != 0 {
		return 0, fmt.Errorf("%w: access rights %q", errSDDL, s)
	}
	var v uint32
	for i := 0; i < len(s); i += 2 {
		bit, ok := sddlRights[s[i:i+2]]
		if !ok {
			return 0, fmt.Errorf("%w: unknown access right %q", errSDDL, s[i:i+2])
		}
		v |= bit
	}
	return v, nil
}

// validSID accepts "S-1-..." strings and two-letter abbreviations.
func validSID(s string) bool {
	if len(s) == 2 {
		return s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z'
	}
	if !strings.HasPrefix(s, "S-1-") || len(s) > 200 {
		return false
	}
	for _, part := range strings.Split(s[len("S-1-"):], "-") {
		if part == "" {
			return false
		}
		if _, err := strconv.ParseUint(part, 0, 64); err != nil {
			return false
		}
	}
	return true
}

// unsafeReasons lists why sd fails the rule for a path whose write-type
// rights must stay within mask; nil means it passes.
func unsafeReasons(sd securityDescriptor, mask uint32) []string {
	var reasons []string
	if !isTrustedSID(sd.Owner) {
		reasons = append(reasons, fmt.Sprintf("is owned by %s, not SYSTEM, TrustedInstaller or Administrators", sd.Owner))
	}
	if sd.NullDACL {
		reasons = append(reasons, "has no DACL, so everyone has full access")
	}
	for _, a := range sd.ACEs {
		if a.InheritOnly || isTrustedSID(a.SID) {
			continue
		}
		if a.Type != "A" && a.Type != "OA" && a.Type != "XA" && a.Type != "ZA" {
			continue // deny entries only ever take rights away
		}
		if bad := a.Rights & mask; bad != 0 {
			reasons = append(reasons, fmt.Sprintf("grants %s to %s", rightNames(bad), a.SID))
		}
	}
	return reasons
}

func rightNames(bits uint32) string {
	var names []string
	for _, r := range writeRightNames {
		if bits&r.bit != 0 {
			names = append(names, r.name)
		}
	}
	return strings.Join(names, "|")
}
