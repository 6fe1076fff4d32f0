package winresource

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	long := strings.Repeat("é", MaxFieldLength)
	tooLong := strings.Repeat("x", MaxFieldLength+1)
	astral := strings.Repeat("😀", MaxFieldLength/2+1) // two UTF-16 code units each
	ico := bitmapICO()
	pngIco := pngICO(t, 32, 16)

	icoWith := func(mod func(b []byte) []byte) []byte { return mod(bytes.Clone(ico)) }
	le := binary.LittleEndian

	for _, tc := range []struct {
		name string
		info Info
		want string // "" for valid
	}{
		{"zero", Info{}, ""},
		{"full, bitmap ICO", fullInfo(ico), ""},
		{"PNG ICO", Info{Icon: pngIco}, ""},
		{"PNG 256", Info{Icon: testPNG(t, 256)}, ""},
		{"version 3 parts", Info{FileVersion: "1.2.3"}, ""},
		{"version max", Info{ProductVersion: "65535.0.65535.0"}, ""},
		{"version leading zeros", Info{FileVersion: "2026.01.15"}, ""},
		{"longest field", Info{Comments: long}, ""},
		{"version 2 parts", Info{FileVersion: "1.2"}, `FileVersion: version "1.2" must have the form 1.2.3 or 1.2.3.4`},
		{"version 5 parts", Info{ProductVersion: "1.2.3.4.5"}, `ProductVersion: version "1.2.3.4.5" must have the form`},
		{"version v prefix", Info{FileVersion: "v1.2.3"}, `FileVersion: version "v1.2.3": part "v1" is not a number`},
		{"version empty part", Info{FileVersion: "1..3"}, `part "" is not a number`},
		{"version too big", Info{FileVersion: "1.65536.3"}, `part "65536" is not a number from 0 to 65535`},
		{"version sign", Info{FileVersion: "1.+2.3"}, `part "+2" is not a number`},
		{"version suffix", Info{ProductVersion: "1.2.3-rc1"}, `part "3-rc1" is not a number`},
		{"version space", Info{ProductVersion: " 1.2.3"}, `part " 1" is not a number`},
		{"too long", Info{CompanyName: tooLong}, "CompanyName: 513 characters (UTF-16 code units), over the limit of 512"},
		{"too long in UTF-16", Info{ProductName: astral}, "ProductName: 514 characters"},
		{"newline", Info{Comments: "a\nb"}, "Comments: control character U+000A is not allowed"},
		{"NUL", Info{InternalName: "a\x00b"}, "InternalName: control character U+0000"},
		{"C1 control", Info{LegalCopyright: "a\u0085b"}, "LegalCopyright: control character U+0085"},
		{"invalid UTF-8", Info{FileDescription: "a\xffb"}, "FileDescription: not valid UTF-8"},
		{"path as original file name", Info{OriginalFilename: `bin\hello.exe`}, `OriginalFilename: "bin\\hello.exe" is a path`},
		{"icon neither", Info{Icon: []byte("GIF89a....")}, `Icon: neither an ICO file nor a PNG image (starts with "GIF89a..")`},
		{"icon too big", Info{Icon: append(bytes.Clone(ico), make([]byte, MaxIconSize)...)}, "Icon: 4195454 bytes, over the limit of 4194304"},
		{"PNG too large", Info{Icon: testPNG(t, 257)}, "Icon: the PNG image is 257x257 pixels; an icon is at most 256x256"},
		{"PNG truncated", Info{Icon: testPNG(t, 16)[:40]}, "Icon: malformed PNG image"},
		{"ICO no images", Info{Icon: icoWith(func(b []byte) []byte { le.PutUint16(b[4:], 0); return b })}, "Icon: malformed ICO file: 0 images"},
		{"ICO too many images", Info{Icon: icoWith(func(b []byte) []byte { le.PutUint16(b[4:], 65); return b })}, "65 images"},
		{"ICO directory past end", Info{Icon: icoWith(func(b []byte) []byte { le.PutUint16(b[4:], 64); return b[:100] })}, "the directory of 64 images does not fit"},
		{"ICO image past end", Info{Icon: ico[:len(ico)-1]}, "image 1 (1128 bytes at offset 22) is not inside the file"},
		{"ICO image over directory", Info{Icon: icoWith(func(b []byte) []byte { le.PutUint32(b[18:], 6); return b })}, "is not inside the file after the directory"},
		{"ICO empty image", Info{Icon: icoWith(func(b []byte) []byte { le.PutUint32(b[14:], 0); return b })}, "image 1 (0 bytes at offset 22)"},
		{"ICO image neither PNG nor bitmap", Info{Icon: icoWith(func(b []byte) []byte { b[22] = 41; return b })}, "image 1 is neither a PNG nor a bitmap"},
		{"ICO header only", Info{Icon: []byte{0, 0, 1, 0}}, "malformed ICO file: shorter than its header"},
		{"cursor, not icon", Info{Icon: icoWith(func(b []byte) []byte { b[2] = 2; return b })}, "neither an ICO file nor a PNG image"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.info.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.want != "" && err == nil:
				t.Fatalf("no error, want %q", tc.want)
			case tc.want != "" && !strings.Contains(err.Error(), tc.want):
				t.Fatalf("error %q does not contain %q", err, tc.want)
			}
		})
	}
}

func TestParseVersion(t *testing.T) {
	for in, want := range map[string][4]uint16{
		"1.2.3":           {1, 2, 3, 0},
		"1.2.3.4":         {1, 2, 3, 4},
		"0.0.0":           {0, 0, 0, 0},
		"65535.65535.0.1": {65535, 65535, 0, 1},
		"2026.01.015":     {2026, 1, 15, 0},
	} {
		got, err := parseVersion(in)
		if err != nil || got != want {
			t.Errorf("parseVersion(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
}
