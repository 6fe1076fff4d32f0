package manifest

import (
	"bytes"
	"fmt"
	"strings"
)

// Decode parses a manifest strictly: the input must be exactly what Encode would write for
// the manifest it describes. Anything else (records out of order, duplicated or unknown,
// unsorted files, upper-case or malformed hex, sizes with leading zeros, trailing spaces,
// CR, a missing final newline, invalid paths, an entry that is not a file with role entry,
// ...) is a *LineError naming the line; only input over MaxEncodedSize is refused before
// any line is read. An empty python-trust list decodes as nil.
//
// Decode runs at every start of the loader: it converts the input to a string once and
// slices every path out of it, so it allocates little beyond the returned Files.
func Decode(b []byte) (*Manifest, error) {
	if len(b) > MaxEncodedSize {
		return nil, fmt.Errorf("manifest is %d bytes, over the limit of %d", len(b), MaxEncodedSize)
	}
	if len(b) == 0 {
		return nil, lineErr(1, "empty manifest")
	}
	nlines := bytes.Count(b, []byte{'\n'})
	if b[len(b)-1] != '\n' {
		return nil, lineErr(nlines+1, "missing final newline")
	}
	if nlines > MaxFiles+MaxTrust+8 {
		return nil, lineErr(MaxFiles+MaxTrust+9, "too many lines (%d)", nlines)
	}
	d := decoder{rest: string(b)}
	return d.decode(nlines)
}

type decoder struct {
	rest string // not yet consumed input
	line int    // number of the line last returned by next
}

// next returns the next line without its newline, and whether there was one.
func (d *decoder) next() (string, bool) {
	if d.rest == "" {
		return "", false
	}
	i := strings.IndexByte(d.rest, '\n') // always found: the input ends with '\n'
	l := d.rest[:i]
	d.rest = d.rest[i+1:]
	d.line++
	return l, true
}

// peekKey returns the record name of the next line without consuming it.
func (d *decoder) peekKey() string {
	l := d.rest
	if i := strings.IndexByte(l, '\n'); i >= 0 {
		l = l[:i]
	}
	k, _, _ := strings.Cut(l, " ")
	return k
}

var knownKeys = map[string]bool{
	"signet-manifest": true, "entry": true, "level": true, "python-path": true,
	"python-version": true, "python-sha256": true, "python-trust": true,
	"seal-runtime": true, "require-signer": true, "verify-at-import": true, "file": true,
}

// field reads the next line, which must be the record key with a non-empty value.
func (d *decoder) field(key string) (string, error) {
	l, ok := d.next()
	if !ok {
		return "", lineErr(d.line+1, "manifest ends before the %s record", key)
	}
	if err := checkLine(l); err != nil {
		return "", &LineError{Line: d.line, Reason: err.Error()}
	}
	k, v, _ := strings.Cut(l, " ")
	if k != key {
		if knownKeys[k] {
			return "", lineErr(d.line, "%s record out of place, want %s", k, key)
		}
		return "", lineErr(d.line, "unknown record %.40q, want %s", k, key)
	}
	if v == "" {
		return "", lineErr(d.line, "%s record without a value", key)
	}
	return v, nil
}

// checkLine refuses bytes no canonical line holds anywhere.
func checkLine(l string) error {
	if l == "" {
		return fmt.Errorf("empty line")
	}
	if strings.IndexByte(l, '\r') >= 0 {
		return fmt.Errorf("carriage return (line ends must be \\n only)")
	}
	if l[len(l)-1] == ' ' {
		return fmt.Errorf("trailing space")
	}
	return nil
}

func (d *decoder) decode(nlines int) (*Manifest, error) {
	m := &Manifest{}
	v, err := d.field("signet-manifest")
	if err != nil {
		return nil, err
	}
	if v != "1" {
		return nil, lineErr(d.line, "unsupported manifest format version %.20q, want 1", v)
	}

	if m.Entry, err = d.field("entry"); err != nil {
		return nil, err
	}
	entryLine := d.line
	if err := checkEntry(m.Entry); err != nil {
		return nil, lineErr(d.line, "%v", err)
	}

	if v, err = d.field("level"); err != nil {
		return nil, err
	}
	switch Level(v) {
	case LevelEnforce:
		m.Level = LevelEnforce
	case LevelWarn:
		m.Level = LevelWarn
	default:
		return nil, lineErr(d.line, "%v", checkLevel(Level(v)))
	}

	if m.PythonPath, err = d.field("python-path"); err != nil {
		return nil, err
	}
	pythonPathLine := d.line
	if err := checkPythonPath(m.PythonPath); err != nil {
		return nil, lineErr(d.line, "%v", err)
	}

	if m.PythonVersion, err = d.field("python-version"); err != nil {
		return nil, err
	}
	if err := checkPythonVersion(m.PythonVersion); err != nil {
		return nil, lineErr(d.line, "%v", err)
	}

	if v, err = d.field("python-sha256"); err != nil {
		return nil, err
	}
	if v != "-" {
		var sum [32]byte
		if err := decodeHex(&sum, v); err != nil {
			return nil, lineErr(d.line, "python-sha256: %v", err)
		}
		m.PythonSHA256 = &sum
	}

	for d.peekKey() == "python-trust" {
		if v, err = d.field("python-trust"); err != nil {
			return nil, err
		}
		if err := checkTrust(v, !isAbsolute(m.PythonPath)); err != nil {
			return nil, lineErr(d.line, "%v", err)
		}
		if n := len(m.PythonTrust); n > 0 {
			if prev := m.PythonTrust[n-1]; v == prev {
				return nil, lineErr(d.line, "python-trust %q is listed twice", v)
			} else if v < prev {
				return nil, lineErr(d.line, "python-trust %q is out of order (after %q)", v, prev)
			}
			if n == MaxTrust {
				return nil, lineErr(d.line, "more than %d python-trust records", MaxTrust)
			}
		}
		m.PythonTrust = append(m.PythonTrust, v)
	}

	if v, err = d.field("seal-runtime"); err != nil {
		return nil, err
	}
	switch v {
	case "on":
		m.SealRuntime = true
	case "off":
	default:
		return nil, lineErr(d.line, "seal-runtime %.20q is neither on nor off", v)
	}

	if d.peekKey() == "require-signer" {
		if v, err = d.field("require-signer"); err != nil {
			return nil, err
		}
		var sum [32]byte
		if err := decodeHex(&sum, v); err != nil {
			return nil, lineErr(d.line, "require-signer: %v", err)
		}
		m.RequireSigner = &sum
	}

	if d.peekKey() == "verify-at-import" {
		if v, err = d.field("verify-at-import"); err != nil {
			return nil, err
		}
		if v != "on" {
			return nil, lineErr(d.line, "verify-at-import %.20q is not on (leave the record out for off)", v)
		}
		m.VerifyAtImport = true
	}

	m.Files = make([]File, 0, nlines-d.line)
	entryFileLine := 0
	for {
		l, ok := d.next()
		if !ok {
			break
		}
		f, err := parseFile(l)
		if err != nil {
			return nil, &LineError{Line: d.line, Reason: err.Error()}
		}
		if err := checkFile(&f, m.SealRuntime); err != nil {
			return nil, lineErr(d.line, "%v", err)
		}
		if n := len(m.Files); n == MaxFiles {
			return nil, lineErr(d.line, "more than %d file records", MaxFiles)
		} else if n > 0 {
			if prev := m.Files[n-1].Path; f.Path == prev {
				return nil, lineErr(d.line, "file %q is listed twice", f.Path)
			} else if f.Path < prev {
				return nil, lineErr(d.line, "file %q is out of order (after %q)", f.Path, prev)
			}
		}
		if f.Role == RoleEntry {
			if f.Path != m.Entry {
				return nil, lineErr(d.line, "file %q has role entry, but the entry is %q", f.Path, m.Entry)
			}
			entryFileLine = d.line
		} else if f.Path == m.Entry {
			return nil, lineErr(d.line, "entry %q is listed with role %s, want entry", f.Path, f.Role)
		}
		m.Files = append(m.Files, f)
	}
	if entryFileLine == 0 {
		return nil, lineErr(entryLine, "entry %q: %v", m.Entry, errNoEntryFile)
	}
	if !isAbsolute(m.PythonPath) {
		if _, ok := m.Lookup(m.PythonPath); !ok {
			return nil, lineErr(pythonPathLine, "python-path %q is relative but not listed as a file", m.PythonPath)
		}
	}
	return m, nil
}

// parseFile parses "file <hex> <size> <role> <path>"; the path is the rest of the line.
func parseFile(l string) (File, error) {
	var f File
	if err := checkLine(l); err != nil {
		return f, err
	}
	rest, ok := strings.CutPrefix(l, "file ")
	if !ok {
		k, _, _ := strings.Cut(l, " ")
		if knownKeys[k] {
			return f, fmt.Errorf("%s record out of place among file records", k)
		}
		return f, fmt.Errorf("unknown record %.40q", k)
	}
	if len(rest) < 65 || rest[64] != ' ' {
		return f, fmt.Errorf("file record: want a 64-digit hex digest followed by a space")
	}
	if err := decodeHex(&f.SHA256, rest[:64]); err != nil {
		return f, fmt.Errorf("file digest: %w", err)
	}
	rest = rest[65:]
	sp := strings.IndexByte(rest, ' ')
	if sp < 0 {
		return f, fmt.Errorf("file record: missing size, role or path")
	}
	size, err := parseSize(rest[:sp])
	if err != nil {
		return f, err
	}
	f.Size = size
	rest = rest[sp+1:]
	sp = strings.IndexByte(rest, ' ')
	if sp < 0 {
		return f, fmt.Errorf("file record: missing role or path")
	}
	role, ok := parseRole(rest[:sp])
	if !ok {
		return f, fmt.Errorf("file record: unknown role %.20q", rest[:sp])
	}
	f.Role = role
	f.Path = rest[sp+1:]
	return f, nil
}

// parseRole returns the Role constant named s (so decoding allocates no role strings).
func parseRole(s string) (Role, bool) {
	for _, r := range [...]Role{RoleModule, RoleData, RoleExtension, RoleBytecode, RoleEntry, RoleRuntime} {
		if string(r) == s {
			return r, true
		}
	}
	return "", false
}

// parseSize parses a canonical non-negative decimal int64: no sign, no leading zeros.
func parseSize(s string) (int64, error) {
	if s == "" {
		return 0, fmt.Errorf("file record: empty size")
	}
	if s[0] == '0' && len(s) > 1 {
		return 0, fmt.Errorf("file size %.24q has a leading zero", s)
	}
	if len(s) > 19 {
		return 0, fmt.Errorf("file size %.24q is too large", s)
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("file size %.24q is not a decimal number", s)
		}
		n = n*10 + uint64(c-'0')
	}
	if n > 1<<63-1 {
		return 0, fmt.Errorf("file size %q is too large", s)
	}
	return int64(n), nil
}

// decodeHex decodes exactly 64 lower-case hex digits into sum.
func decodeHex(sum *[32]byte, s string) error {
	if len(s) != 64 {
		return fmt.Errorf("want 64 hex digits, got %d characters", len(s))
	}
	// Without branches: an invalid digit maps to 0xff, whose high bit lands in bad.
	var bad byte
	for i := 0; i < 32; i++ {
		hi := hexValPlus1[s[2*i]] - 1
		lo := hexValPlus1[s[2*i+1]] - 1
		bad |= hi | lo
		sum[i] = hi<<4 | lo&0xf
	}
	if bad&0x80 == 0 {
		return nil
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; hexValPlus1[c] == 0 {
			if c >= 'A' && c <= 'F' {
				return fmt.Errorf("upper-case hex digit %q (want lower case)", c)
			}
			return fmt.Errorf("invalid hex digit %q", c)
		}
	}
	return nil
}

// hexValPlus1 maps a lower-case hex digit to its value plus one, and anything else to 0.
// A table lookup, unlike a chain of comparisons, does not mispredict on random digests.
var hexValPlus1 = [256]byte{'0': 1, '1': 2, '2': 3, '3': 4, '4': 5, '5': 6, '6': 7, '7': 8, '8': 9, '9': 10, 'a': 11, 'b': 12, 'c': 13, 'd': 14, 'e': 15, 'f': 16}
