package manifest

import (
	"fmt"
	"sort"
	"strconv"
)

const hexDigits = "0123456789abcdef"

// Encode validates m and returns its canonical bytes. Files are written sorted by path and
// python-trust entries sorted, whatever their order in m; duplicates are an error. m is never
// modified. Everything Encode returns, Decode accepts, and decodes to the same manifest (with
// Files and PythonTrust sorted).
func (m *Manifest) Encode() ([]byte, error) {
	if err := m.validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", errInvalid, err)
	}
	trust := append([]string(nil), m.PythonTrust...)
	sort.Strings(trust)
	files := m.sortedFiles()

	n := len("signet-manifest 1\n") + len("entry \n") + len(m.Entry) + len("level \n") + len(m.Level) +
		len("python-path \n") + len(m.PythonPath) + len("python-version \n") + len(m.PythonVersion) +
		len("python-sha256 \n") + 64 + len("seal-runtime off\n") + len("require-signer \n") + 64 + len("verify-at-import on\n")
	for _, t := range trust {
		n += len("python-trust \n") + len(t)
	}
	for i := range files {
		n += len("file ") + 64 + 1 + 20 + 1 + len(files[i].Role) + 1 + len(files[i].Path) + 1
	}
	b := make([]byte, 0, n)
	b = append(b, "signet-manifest "...)
	b = strconv.AppendInt(b, FormatVersion, 10)
	b = append(b, "\nentry "...)
	b = append(b, m.Entry...)
	b = append(b, "\nlevel "...)
	b = append(b, m.Level...)
	b = append(b, "\npython-path "...)
	b = append(b, m.PythonPath...)
	b = append(b, "\npython-version "...)
	b = append(b, m.PythonVersion...)
	b = append(b, "\npython-sha256 "...)
	if m.PythonSHA256 == nil {
		b = append(b, '-')
	} else {
		b = appendHex(b, m.PythonSHA256)
	}
	b = append(b, '\n')
	for _, t := range trust {
		b = append(b, "python-trust "...)
		b = append(b, t...)
		b = append(b, '\n')
	}
	if m.SealRuntime {
		b = append(b, "seal-runtime on\n"...)
	} else {
		b = append(b, "seal-runtime off\n"...)
	}
	if m.RequireSigner != nil {
		b = append(b, "require-signer "...)
		b = appendHex(b, m.RequireSigner)
		b = append(b, '\n')
	}
	if m.VerifyAtImport {
		b = append(b, "verify-at-import on\n"...)
	}
	for i := range files {
		f := &files[i]
		b = append(b, "file "...)
		b = appendHex(b, &f.SHA256)
		b = append(b, ' ')
		b = strconv.AppendInt(b, f.Size, 10)
		b = append(b, ' ')
		b = append(b, f.Role...)
		b = append(b, ' ')
		b = append(b, f.Path...)
		b = append(b, '\n')
	}
	if len(b) > MaxEncodedSize {
		return nil, fmt.Errorf("%w: %d bytes, over the limit of %d", errInvalid, len(b), MaxEncodedSize)
	}
	return b, nil
}

// validate checks every rule of the format on m, without depending on the order of
// m.Files and m.PythonTrust.
func (m *Manifest) validate() error {
	if err := checkEntry(m.Entry); err != nil {
		return err
	}
	if err := checkLevel(m.Level); err != nil {
		return err
	}
	if err := checkPythonPath(m.PythonPath); err != nil {
		return err
	}
	if err := checkPythonVersion(m.PythonVersion); err != nil {
		return err
	}
	if len(m.PythonTrust) > MaxTrust {
		return fmt.Errorf("%d python-trust entries, over the limit of %d", len(m.PythonTrust), MaxTrust)
	}
	trust := append([]string(nil), m.PythonTrust...)
	sort.Strings(trust)
	for i, t := range trust {
		if err := checkTrust(t, !isAbsolute(m.PythonPath)); err != nil {
			return err
		}
		if i > 0 && trust[i-1] == t {
			return fmt.Errorf("python-trust %q is listed twice", t)
		}
	}
	if len(m.Files) > MaxFiles {
		return fmt.Errorf("%d files, over the limit of %d", len(m.Files), MaxFiles)
	}
	files := m.sortedFiles()
	var entries int
	for i := range files {
		f := &files[i]
		if err := checkFile(f, m.SealRuntime); err != nil {
			return err
		}
		if i > 0 && files[i-1].Path == f.Path {
			return fmt.Errorf("file %q is listed twice", f.Path)
		}
		if f.Role == RoleEntry {
			entries++
			if f.Path != m.Entry {
				return fmt.Errorf("file %q has role entry, but the entry is %q", f.Path, m.Entry)
			}
		}
	}
	if entries == 0 {
		if f, ok := lookup(files, m.Entry); ok {
			return fmt.Errorf("entry %q is listed with role %s, want entry", m.Entry, f.Role)
		}
		return fmt.Errorf("entry %q: %w", m.Entry, errNoEntryFile)
	}
	if !isAbsolute(m.PythonPath) {
		if f, ok := lookup(files, m.PythonPath); !ok || f.Role == RoleRuntime {
			return fmt.Errorf("python-path %q is relative but not listed as a file", m.PythonPath)
		}
	}
	return nil
}

func lookup(files []File, path string) (File, bool) {
	i := sort.Search(len(files), func(i int) bool { return files[i].Path >= path })
	if i < len(files) && files[i].Path == path {
		return files[i], true
	}
	return File{}, false
}

func appendHex(b []byte, sum *[32]byte) []byte {
	for _, c := range sum {
		b = append(b, hexDigits[c>>4], hexDigits[c&0xf])
	}
	return b
}
