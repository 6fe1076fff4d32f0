package winresource

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/tc-hib/winres/version"
)

// MaxFieldLength is the longest a version string may be, in UTF-16 code units. (The whole
// version resource must stay under 64 KiB; Explorer shows far less.)
const MaxFieldLength = 512

// field is one string of the version information.
type field struct {
	name  string // the Info field, for messages
	key   string // the StringFileInfo key
	value string
}

// stringFields lists info's strings in a fixed order.
func (i Info) stringFields() []field {
	return []field{
		{"CompanyName", version.CompanyName, i.CompanyName},
		{"ProductName", version.ProductName, i.ProductName},
		{"FileDescription", version.FileDescription, i.FileDescription},
		{"FileVersion", version.FileVersion, i.FileVersion},
		{"ProductVersion", version.ProductVersion, i.ProductVersion},
		{"LegalCopyright", version.LegalCopyright, i.LegalCopyright},
		{"OriginalFilename", version.OriginalFilename, i.OriginalFilename},
		{"InternalName", version.InternalName, i.InternalName},
		{"Comments", version.Comments, i.Comments},
	}
}

// Validate checks every field and names the first one that is wrong: a version that is not
// "1.2.3" or "1.2.3.4", a string that is not valid UTF-8, holds a control character or is
// longer than MaxFieldLength, an OriginalFilename with a directory, or an Icon that is
// neither a well-formed ICO nor a PNG of at most 256x256 pixels.
func (i Info) Validate() error {
	for _, f := range i.stringFields() {
		if err := checkString(f.value); err != nil {
			return fmt.Errorf("%s: %w", f.name, err)
		}
	}
	for _, f := range []struct{ name, value string }{
		{"FileVersion", i.FileVersion},
		{"ProductVersion", i.ProductVersion},
	} {
		if f.value == "" {
			continue
		}
		if _, err := parseVersion(f.value); err != nil {
			return fmt.Errorf("%s: %w", f.name, err)
		}
	}
	if strings.ContainsAny(i.OriginalFilename, `/\:`) {
		return fmt.Errorf("OriginalFilename: %q is a path; give only the file name", i.OriginalFilename)
	}
	if len(i.Icon) > 0 {
		if _, err := loadIcon(i.Icon); err != nil {
			return fmt.Errorf("Icon: %w", err)
		}
	}
	return nil
}

// checkString refuses strings that cannot be shown as one line of version information.
func checkString(s string) error {
	if !utf8.ValidString(s) {
		return errors.New("not valid UTF-8")
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return fmt.Errorf("control character %U is not allowed", r)
		}
	}
	if n := len(utf16.Encode([]rune(s))); n > MaxFieldLength {
		return fmt.Errorf("%d characters (UTF-16 code units), over the limit of %d", n, MaxFieldLength)
	}
	return nil
}

// parseVersion parses "1.2.3" or "1.2.3.4": three or four decimal parts of 0 to 65535.
// A missing fourth part is 0.
func parseVersion(s string) ([4]uint16, error) {
	var v [4]uint16
	parts := strings.Split(s, ".")
	if len(parts) != 3 && len(parts) != 4 {
		return v, fmt.Errorf("version %q must have the form 1.2.3 or 1.2.3.4", s)
	}
	for k, p := range parts {
		if p == "" || len(p) > 5 || strings.Trim(p, "0123456789") != "" {
			return v, fmt.Errorf("version %q: part %q is not a number from 0 to 65535", s, p)
		}
		n, err := strconv.ParseUint(p, 10, 16)
		if err != nil {
			return v, fmt.Errorf("version %q: part %q is not a number from 0 to 65535", s, p)
		}
		v[k] = uint16(n)
	}
	return v, nil
}
