// Package winresource writes the Windows resources of a loader stub: the version
// information that Explorer shows under Properties > Details, the application icon, and an
// application manifest (asInvoker, long-path aware, UTF-8 active code page).
//
// Resources are written by rewriting the PE's .rsrc section, which moves whatever follows
// it, so they come first in the Windows pipeline: resources, then seal (payload.Attach),
// then sign. Apply refuses an executable that already carries a signet payload or a
// signature. The output is a function of the input bytes and Info only: no timestamps.
//
// The PE layout is checked here before github.com/tc-hib/winres rewrites it, and a panic in
// winres on a hostile file is turned into an error.
package winresource

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/signet-dev/signet/signet/internal/payload"
	"github.com/signet-dev/signet/signet/internal/pefile"
	"github.com/tc-hib/winres"
	"github.com/tc-hib/winres/version"
)

// MaxExeSize is the largest executable Apply accepts.
const MaxExeSize = 512 << 20

// maxResources bounds the .rsrc section Apply writes: the icon, the version information
// and the manifest.
const maxResources = MaxIconSize + 64<<10

// langEnUS is the language of the version information and the manifest (en-US), the one
// Windows tools look for first; the strings themselves are UTF-16 and may be in any language.
const langEnUS = 0x0409

// Info is what Apply writes into the executable's resources. Every field is optional; the
// application manifest is always written.
type Info struct {
	CompanyName     string
	ProductName     string
	FileDescription string
	// FileVersion and ProductVersion are "1.2.3" or "1.2.3.4", each part 0 to 65535. They
	// are written as strings as given and as numbers into VS_FIXEDFILEINFO.
	FileVersion      string
	ProductVersion   string
	LegalCopyright   string
	OriginalFilename string // a file name, without a directory
	InternalName     string
	Comments         string

	// Icon is the application icon: the bytes of a .ico file (kept as they are) or of a
	// .png image of at most 256x256 pixels (converted to a 32-bit icon image).
	Icon []byte
}

// hasVersionInfo reports whether Apply writes a version resource.
func (i Info) hasVersionInfo() bool {
	for _, f := range i.stringFields() {
		if f.value != "" {
			return true
		}
	}
	return false
}

// Apply returns a copy of the PE executable exe whose resources are replaced by those
// described by info (any resources exe had are dropped). exe must be a well-formed PE that
// carries no signet payload and no signature, and nothing after its last section.
// The same exe and info always give the same bytes.
func Apply(exe []byte, info Info) ([]byte, error) {
	if err := info.Validate(); err != nil {
		return nil, fmt.Errorf("windows resources: %w", err)
	}
	if err := checkInput(exe); err != nil {
		return nil, fmt.Errorf("windows resources: %w", err)
	}
	rs, err := info.resourceSet()
	if err != nil {
		return nil, fmt.Errorf("windows resources: %w", err)
	}
	out, err := writeToEXE(rs, exe)
	if err != nil {
		return nil, fmt.Errorf("windows resources: writing the .rsrc section: %w", err)
	}
	if _, err := readLayout(out); err != nil {
		return nil, fmt.Errorf("windows resources: the rewritten executable is malformed: %w", err)
	}
	return out, nil
}

// checkInput refuses anything but an unsealed, unsigned PE whose layout winres can rewrite.
func checkInput(exe []byte) error {
	if len(exe) > MaxExeSize {
		return fmt.Errorf("the executable is %d bytes, over the limit of %d", len(exe), MaxExeSize)
	}
	format, err := payload.Detect(exe)
	if err != nil {
		return fmt.Errorf("not a Windows executable: %w", err)
	}
	if format != payload.FormatPE {
		return fmt.Errorf("not a Windows executable: it is %s; resources exist only in PE files", format)
	}
	pe, err := pefile.ParseBytes(exe)
	if err != nil {
		return fmt.Errorf("not a well-formed PE: %w", err)
	}
	if _, _, signed := pe.CertificateTable(); signed {
		return errors.New("the executable is signed (it has a certificate table): apply resources before sealing and signing")
	}
	switch _, err := payload.Find(bytes.NewReader(exe), int64(len(exe))); {
	case err == nil:
		return errors.New("the executable is already sealed (it carries a signet payload): apply resources before sealing")
	case errors.Is(err, payload.ErrDamaged):
		return fmt.Errorf("the executable carries a signet payload (%w): apply resources before sealing", err)
	case !errors.Is(err, payload.ErrNoPayload):
		return fmt.Errorf("looking for a signet payload: %w", err)
	}
	layout, err := checkLayout(pe)
	if err != nil {
		return err
	}
	if extra := int64(len(exe)) - layout.dataEnd; extra > 0 {
		return fmt.Errorf("%d bytes follow the last section (overlay data, e.g. a symbol table or an appended payload); "+
			"rewriting .rsrc would drop or misplace them", extra)
	}
	if !layout.resources && layout.headersEnd+pefile.SectionHeaderSize > layout.dataStart {
		return errors.New("unsupported PE: its headers have no room for one more section header (.rsrc)")
	}
	return nil
}

// resourceSet builds the resources for info, which must be valid.
func (i Info) resourceSet() (*winres.ResourceSet, error) {
	rs := &winres.ResourceSet{}
	if err := rs.Set(winres.RT_MANIFEST, winres.ID(1), langEnUS, []byte(Manifest)); err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	if i.hasVersionInfo() {
		var vi version.Info
		vi.Type = version.App // the zero Timestamp keeps FileDateMS/LS at 0
		vi.FileVersion, _ = parseVersion(i.FileVersion)
		vi.ProductVersion, _ = parseVersion(i.ProductVersion)
		for _, f := range i.stringFields() {
			if f.value == "" {
				continue
			}
			if err := vi.Set(langEnUS, f.key, f.value); err != nil {
				return nil, fmt.Errorf("version information: %s: %w", f.key, err)
			}
		}
		rs.SetVersionInfo(vi)
	}
	if len(i.Icon) > 0 {
		icon, err := loadIcon(i.Icon)
		if err != nil {
			return nil, fmt.Errorf("Icon: %w", err)
		}
		if err := rs.SetIcon(winres.ID(1), icon); err != nil {
			return nil, fmt.Errorf("Icon: %w", err)
		}
	}
	return rs, nil
}

// errWinresPanic marks a panic inside winres, which writeToEXE turns into an error.
var errWinresPanic = errors.New("winres failed on this executable")

// writeToEXE runs winres on exe. Its output is bounded, and a panic in winres (a bug in
// its parser that a hostile file could reach) becomes an error.
func writeToEXE(rs *winres.ResourceSet, exe []byte) (out []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("%w: %v", errWinresPanic, r)
		}
	}()
	w := &boundedBuffer{limit: len(exe) + maxResources + 2*maxFileAlignment}
	if err := rs.WriteToEXE(w, bytes.NewReader(exe)); err != nil {
		return nil, err
	}
	return w.buf.Bytes(), nil
}

// boundedBuffer is a bytes.Buffer that refuses to grow past limit bytes.
type boundedBuffer struct {
	buf   bytes.Buffer
	limit int
}

func (b *boundedBuffer) Write(p []byte) (int, error) {
	if len(p) > b.limit-b.buf.Len() {
		return 0, fmt.Errorf("the output would exceed %d bytes", b.limit)
	}
	return b.buf.Write(p)
}
