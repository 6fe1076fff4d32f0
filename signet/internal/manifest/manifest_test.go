package manifest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func sum(s string) [32]byte { return sha256.Sum256([]byte(s)) }

func hexOf(s string) string { h := sum(s); return hex.EncodeToString(h[:]) }

// sample returns a manifest that uses every feature of the format, in canonical order.
func sample() *Manifest {
	py := sum("python")
	return &Manifest{
		Entry:         "hello.py",
		Level:         LevelEnforce,
		PythonPath:    "/usr/bin/python3.11",
		PythonVersion: "3.11",
		PythonSHA256:  &py,
		PythonTrust:   []string{"/usr/lib/python3.11", "/usr/lib/python3.11/lib-dynload", "/usr/lib/python311.zip"},
		SealRuntime:   true,
		Files: []File{
			{Path: "/usr/bin/python3.11", Size: 6000000, SHA256: sum("python"), Role: RoleRuntime},
			{Path: "__signet_pyc__/3.11/pkg/__init__.pyc", Size: 100, SHA256: sum("pyc"), Role: RoleBytecode},
			{Path: "data dir/with spaces.txt", Size: 0, SHA256: sum(""), Role: RoleData},
			{Path: "hello.py", Size: 5, SHA256: sum("hello"), Role: RoleEntry},
			{Path: "pkg/__init__.py", Size: 4096, SHA256: sum("init"), Role: RoleModule},
			{Path: "pkg/_speedups.cpython-311-x86_64-linux-gnu.so", Size: 1 << 40, SHA256: sum("so"), Role: RoleExtension},
			{Path: "ünï/名前.py", Size: 9, SHA256: sum("名前"), Role: RoleModule},
		},
	}
}

func sampleText() string {
	return "signet-manifest 1\n" +
		"entry hello.py\n" +
		"level enforce\n" +
		"python-path /usr/bin/python3.11\n" +
		"python-version 3.11\n" +
		"python-sha256 " + hexOf("python") + "\n" +
		"python-trust /usr/lib/python3.11\n" +
		"python-trust /usr/lib/python3.11/lib-dynload\n" +
		"python-trust /usr/lib/python311.zip\n" +
		"seal-runtime on\n" +
		"file " + hexOf("python") + " 6000000 runtime /usr/bin/python3.11\n" +
		"file " + hexOf("pyc") + " 100 bytecode __signet_pyc__/3.11/pkg/__init__.pyc\n" +
		"file " + hexOf("") + " 0 data data dir/with spaces.txt\n" +
		"file " + hexOf("hello") + " 5 entry hello.py\n" +
		"file " + hexOf("init") + " 4096 module pkg/__init__.py\n" +
		"file " + hexOf("so") + " 1099511627776 extension pkg/_speedups.cpython-311-x86_64-linux-gnu.so\n" +
		"file " + hexOf("名前") + " 9 module ünï/名前.py\n"
}

// minimal returns the smallest valid manifest text with the given header overrides.
func minimalText() string {
	return "signet-manifest 1\n" +
		"entry main.py\n" +
		"level warn\n" +
		"python-path C:/Python311/python.exe\n" +
		"python-version 3.11\n" +
		"python-sha256 -\n" +
		"seal-runtime off\n" +
		"file " + hexOf("main") + " 4 entry main.py\n"
}

func TestEncodeGolden(t *testing.T) {
	got, err := sample().Encode()
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}
	if string(got) != sampleText() {
		t.Errorf("Encode mismatch\n got:\n%s\nwant:\n%s", got, sampleText())
	}
}

func TestRoundTrip(t *testing.T) {
	for name, text := range map[string]string{"sample": sampleText(), "minimal": minimalText()} {
		t.Run(name, func(t *testing.T) {
			m, err := Decode([]byte(text))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			again, err := m.Encode()
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}
			if string(again) != text {
				t.Errorf("Encode(Decode(b)) != b\n got:\n%s\nwant:\n%s", again, text)
			}
		})
	}
	m, err := Decode([]byte(sampleText()))
	if err != nil {
		t.Fatal(err)
	}
	if want := sample(); !reflect.DeepEqual(m, want) {
		t.Errorf("Decode(sample) = %+v\nwant %+v", m, want)
	}
	min, err := Decode([]byte(minimalText()))
	if err != nil {
		t.Fatal(err)
	}
	if min.PythonSHA256 != nil || min.PythonTrust != nil || min.SealRuntime || min.Level != LevelWarn {
		t.Errorf("Decode(minimal) = %+v", min)
	}
}

func TestEncodeSortsWithoutMutating(t *testing.T) {
	m := sample()
	// Reverse files and trust.
	for i, j := 0, len(m.Files)-1; i < j; i, j = i+1, j-1 {
		m.Files[i], m.Files[j] = m.Files[j], m.Files[i]
	}
	m.PythonTrust[0], m.PythonTrust[2] = m.PythonTrust[2], m.PythonTrust[0]
	before := fmt.Sprintf("%+v", *m)
	got, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != sampleText() {
		t.Errorf("Encode of reordered manifest is not canonical:\n%s", got)
	}
	if after := fmt.Sprintf("%+v", *m); after != before {
		t.Errorf("Encode mutated the manifest:\nbefore %s\nafter  %s", before, after)
	}
	m.Sort()
	if !reflect.DeepEqual(m, sample()) {
		t.Errorf("Sort did not restore canonical order: %+v", m)
	}
}

func TestEncodeErrors(t *testing.T) {
	tests := []struct {
		name   string
		modify func(m *Manifest)
		want   string
	}{
		{"empty entry", func(m *Manifest) { m.Entry = "" }, "empty path"},
		{"absolute entry", func(m *Manifest) { m.Entry = "/hello.py" }, "absolute"},
		{"entry not listed", func(m *Manifest) { m.Entry = "other.py" }, "has role entry, but the entry is"},
		{"bad level", func(m *Manifest) { m.Level = "strict" }, "level"},
		{"bad version", func(m *Manifest) { m.PythonVersion = "3" }, "X.Y"},
		{"version leading zero", func(m *Manifest) { m.PythonVersion = "3.011" }, "X.Y"},
		{"windows backslash python", func(m *Manifest) { m.PythonPath = `C:\Python311\python.exe` }, "python-path"},
		{"relative python not sealed", func(m *Manifest) { m.PythonPath, m.PythonTrust = "python/bin/python3", nil }, "not listed as a file"},
		{"absolute trust of a bundled python", func(m *Manifest) { m.PythonPath = "python/bin/python3" }, "is absolute, but the interpreter is bundled"},
		{"relative trust", func(m *Manifest) { m.PythonTrust = []string{"usr/lib"} }, "python-trust"},
		{"duplicate trust", func(m *Manifest) { m.PythonTrust = []string{"/a", "/a"} }, "listed twice"},
		{"duplicate file", func(m *Manifest) { m.Files = append(m.Files, m.Files[2]) }, "listed twice"},
		{"negative size", func(m *Manifest) { m.Files[2].Size = -1 }, "negative size"},
		{"unknown role", func(m *Manifest) { m.Files[2].Role = "config" }, "unknown role"},
		{"role mismatch", func(m *Manifest) { m.Files[4].Role = RoleData }, "want module"},
		{"runtime without seal-runtime", func(m *Manifest) { m.SealRuntime = false }, "seal-runtime is off"},
		{"relative runtime", func(m *Manifest) { m.Files[0].Path = "usr/bin/python3.11" }, "not absolute"},
		{"absolute module", func(m *Manifest) { m.Files[4].Path = "/pkg/__init__.py" }, "absolute"},
		{"dotdot", func(m *Manifest) { m.Files[4].Path = "pkg/../x.py" }, `".."`},
		{"newline in path", func(m *Manifest) { m.Files[4].Path = "pkg/a\nb.py" }, "control character"},
		{"trailing space", func(m *Manifest) { m.Files[2].Path = "data " }, "ends with a space"},
		{"entry with wrong role", func(m *Manifest) { m.Files[3].Role = RoleModule }, "want entry"},
		{"two entries", func(m *Manifest) { m.Files[6].Role = RoleEntry }, "has role entry"},
		{"no files", func(m *Manifest) { m.Files = nil }, "not listed as a file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := sample()
			tt.modify(m)
			_, err := m.Encode()
			if err == nil {
				t.Fatalf("Encode succeeded, want error containing %q", tt.want)
			}
			if !errors.Is(err, errInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Encode error = %v, want errInvalid containing %q", err, tt.want)
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	good := sampleText()
	lines := strings.SplitAfter(good, "\n")
	lines = lines[:len(lines)-1] // drop the empty tail
	// replace returns good with line n (1-based) replaced by s (which must end in \n, or
	// be empty to delete the line).
	replace := func(n int, s string) string {
		out := append([]string(nil), lines...)
		out[n-1] = s
		return strings.Join(out, "")
	}
	swap := func(a, b int) string {
		out := append([]string(nil), lines...)
		out[a-1], out[b-1] = out[b-1], out[a-1]
		return strings.Join(out, "")
	}
	h := hexOf("x")
	tests := []struct {
		name     string
		input    string
		wantLine int
		want     string
	}{
		{"empty", "", 1, "empty manifest"},
		{"no final newline", strings.TrimSuffix(good, "\n"), 17, "missing final newline"},
		{"CRLF", strings.ReplaceAll(good, "\n", "\r\n"), 1, "carriage return"},
		{"BOM", "\ufeff" + good, 1, "unknown record"},
		{"version 2", replace(1, "signet-manifest 2\n"), 1, "unsupported manifest format version"},
		{"leading zero version", replace(1, "signet-manifest 01\n"), 1, "unsupported"},
		{"missing entry", replace(2, ""), 2, "level record out of place, want entry"},
		{"unknown record", replace(3, "colour blue\n"), 3, "unknown record"},
		{"upper-case key", replace(3, "LEVEL enforce\n"), 3, "unknown record"},
		{"double space", replace(3, "level  enforce\n"), 3, "neither"},
		{"trailing space", replace(3, "level enforce \n"), 3, "trailing space"},
		{"empty line", replace(3, "\n"), 3, "empty line"},
		{"bad level", replace(3, "level maybe\n"), 3, "neither"},
		{"no value", replace(3, "level\n"), 3, "without a value"},
		{"header order", swap(3, 4), 3, "python-path record out of place, want level"},
		{"bad python path", replace(4, "python-path ../python\n"), 4, `".."`},
		{"bad python version", replace(5, "python-version 3.11.2\n"), 5, "X.Y"},
		{"upper-case hex", replace(6, "python-sha256 "+strings.ToUpper(hexOf("python"))+"\n"), 6, "upper-case hex"},
		{"short hex", replace(6, "python-sha256 abc\n"), 6, "64 hex digits"},
		{"bad hex", replace(6, "python-sha256 "+strings.Repeat("g", 64)+"\n"), 6, "invalid hex digit"},
		{"trust order", swap(7, 8), 8, "out of order"},
		{"trust dup", replace(8, lines[6]), 8, "listed twice"},
		{"trust relative", replace(7, "python-trust usr/lib\n"), 7, "not absolute"},
		{"trust after seal-runtime", swap(9, 10), 10, "python-trust record out of place among file records"},
		{"seal-runtime value", replace(10, "seal-runtime yes\n"), 10, "neither on nor off"},
		{"seal-runtime off with runtime file", replace(10, "seal-runtime off\n"), 11, "seal-runtime is off"},
		{"file order", swap(12, 13), 13, "out of order"},
		{"file dup", replace(13, lines[11]), 13, "listed twice"},
		{"header after files", replace(14, "level warn\n"), 14, "out of place"},
		{"size leading zero", replace(14, "file "+hexOf("hello")+" 05 entry hello.py\n"), 14, "leading zero"},
		{"size sign", replace(14, "file "+hexOf("hello")+" +5 entry hello.py\n"), 14, "not a decimal"},
		{"size overflow", replace(14, "file "+hexOf("hello")+" 9223372036854775808 entry hello.py\n"), 14, "too large"},
		{"size too long", replace(14, "file "+hexOf("hello")+" 99999999999999999999 entry hello.py\n"), 14, "too large"},
		{"missing role", replace(14, "file "+hexOf("hello")+" 5\n"), 14, "missing"},
		{"missing path", replace(14, "file "+hexOf("hello")+" 5 entry\n"), 14, "missing role or path"},
		{"unknown role", replace(15, "file "+h+" 4096 source pkg/__init__.py\n"), 15, "unknown role"},
		{"role mismatch", replace(15, "file "+h+" 4096 data pkg/__init__.py\n"), 15, "want module"},
		{"digest upper", replace(15, "file "+strings.ToUpper(h)+" 4096 module pkg/__init__.py\n"), 15, "upper-case"},
		{"digest short", replace(15, "file abcd 4096 module pkg/__init__.py\n"), 15, "64-digit"},
		{"backslash path", replace(15, "file "+h+" 4096 module pkg\\__init__.py\n"), 15, "backslash"},
		{"tab in path", replace(15, "file "+h+" 4096 module pkg/\t.py\n"), 15, "control character"},
		{"invalid utf-8", replace(15, "file "+h+" 4096 module pkg/\xff.py\n"), 15, "UTF-8"},
		{"entry role elsewhere", replace(15, "file "+h+" 4096 entry pkg/__init__.py\n"), 15, "has role entry, but the entry is"},
		{"entry with other role", replace(14, "file "+hexOf("hello")+" 5 module hello.py\n"), 14, "want entry"},
		{"entry missing", replace(14, ""), 2, "not listed as a file"},
		{"ends after header", strings.Join(lines[:9], ""), 10, "ends before the seal-runtime record"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Decode([]byte(tt.input))
			if err == nil {
				t.Fatalf("Decode succeeded (%+v), want error containing %q", m, tt.want)
			}
			var le *LineError
			if !errors.As(err, &le) {
				t.Fatalf("Decode error %v is not a *LineError", err)
			}
			if le.Line != tt.wantLine || !strings.Contains(le.Reason, tt.want) {
				t.Errorf("Decode error = %v, want line %d containing %q", err, tt.wantLine, tt.want)
			}
			if !strings.HasPrefix(err.Error(), fmt.Sprintf("manifest line %d: ", tt.wantLine)) {
				t.Errorf("error text %q does not name the line", err)
			}
		})
	}
}

func TestRelativeInterpreter(t *testing.T) {
	m := &Manifest{
		Entry: "app.py", Level: LevelEnforce, PythonPath: "python/python.exe", PythonVersion: "3.12",
		Files: []File{
			{Path: "app.py", Role: RoleEntry, SHA256: sum("app"), Size: 3},
			{Path: "python/python.exe", Role: RoleData, SHA256: sum("exe"), Size: 100},
		},
	}
	b, err := m.Encode()
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}
	got, err := Decode(b)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if !reflect.DeepEqual(got, m) {
		t.Errorf("round trip: got %+v, want %+v", got, m)
	}
	// Removing the sealed interpreter must be refused, naming the python-path line.
	broken := strings.Replace(string(b), "file "+hexOf("exe")+" 100 data python/python.exe\n", "", 1)
	_, err = Decode([]byte(broken))
	var le *LineError
	if !errors.As(err, &le) || le.Line != 4 {
		t.Errorf("Decode without the sealed interpreter: %v, want an error on line 4", err)
	}
}

func TestDecodeLimits(t *testing.T) {
	if _, err := Decode(make([]byte, MaxEncodedSize+1)); err == nil || !strings.Contains(err.Error(), "over the limit") {
		t.Errorf("Decode of an oversized input: %v", err)
	}
	many := bytes.Repeat([]byte("x\n"), MaxFiles+MaxTrust+9)
	var le *LineError
	if _, err := Decode(many); !errors.As(err, &le) || !strings.Contains(le.Reason, "too many lines") {
		t.Errorf("Decode of too many lines: %v", err)
	}
}

func TestRoleForPath(t *testing.T) {
	tests := map[string]Role{
		"a.py": RoleModule, "pkg/gui.pyw": RoleModule, "A.PY": RoleModule,
		"x.so": RoleExtension, "x.cpython-311-x86_64-linux-gnu.so": RoleExtension, "x.cp311-win_amd64.pyd": RoleExtension,
		"__signet_pyc__/3.11/a.pyc": RoleBytecode,
		"README":                    RoleData, "a.txt": RoleData, "libfoo.so.1": RoleData, "dir.py/file": RoleData, "a.py.bak": RoleData,
	}
	for p, want := range tests {
		if got := RoleForPath(p); got != want {
			t.Errorf("RoleForPath(%q) = %s, want %s", p, got, want)
		}
	}
}

func TestLookup(t *testing.T) {
	m := sample()
	for _, f := range m.Files {
		got, ok := m.Lookup(f.Path)
		if !ok || got != f {
			t.Errorf("Lookup(%q) = %+v, %v; want %+v", f.Path, got, ok, f)
		}
	}
	for _, p := range []string{"", "hello", "hello.pyc", "pkg", "zzz", "/usr/bin"} {
		if got, ok := m.Lookup(p); ok {
			t.Errorf("Lookup(%q) = %+v, want not found", p, got)
		}
	}
}

func TestSHA256SumLines(t *testing.T) {
	m := sample()
	var want strings.Builder
	for _, f := range m.Files {
		fmt.Fprintf(&want, "%x  %s\n", f.SHA256, f.Path)
	}
	if got := string(m.SHA256SumLines()); got != want.String() {
		t.Errorf("SHA256SumLines =\n%s\nwant\n%s", got, want.String())
	}
}

// bigManifest returns a manifest of n module files in canonical order.
func bigManifest(n int) *Manifest {
	m := &Manifest{Entry: "app/main.py", Level: LevelEnforce, PythonPath: "/usr/bin/python3.11", PythonVersion: "3.11",
		PythonTrust: []string{"/usr/lib/python3.11", "/usr/lib/python3.11/lib-dynload"}}
	m.Files = make([]File, 0, n)
	for i := 0; i < n-1; i++ {
		p := fmt.Sprintf("app/pkg%03d/sub/module_%06d.py", i/1000, i)
		m.Files = append(m.Files, File{Path: p, Size: int64(i * 37), SHA256: sum(p), Role: RoleModule})
	}
	m.Files = append(m.Files, File{Path: "app/main.py", Size: 1, SHA256: sum("main"), Role: RoleEntry})
	m.Sort()
	return m
}

func TestBigRoundTrip(t *testing.T) {
	m := bigManifest(50000)
	b, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, m) {
		t.Error("50,000-file manifest did not round-trip")
	}
}

func BenchmarkDecode(b *testing.B) {
	enc, err := bigManifest(50000).Encode()
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(enc)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(enc); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncode(b *testing.B) {
	m := bigManifest(50000)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Encode(); err != nil {
			b.Fatal(err)
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(sampleText()))
	f.Add([]byte(minimalText()))
	f.Add([]byte(strings.ReplaceAll(minimalText(), "seal-runtime off", "seal-runtime on")))
	f.Add([]byte(strings.Replace(minimalText(), "seal-runtime off\n", "seal-runtime off\nrequire-signer "+hexOf("pin")+"\n", 1)))
	f.Add([]byte("signet-manifest 1\n"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Decode(b)
		if err != nil {
			var le *LineError
			if len(b) <= MaxEncodedSize && !errors.As(err, &le) {
				t.Fatalf("Decode error %v is not a *LineError", err)
			}
			return
		}
		enc, err := m.Encode()
		if err != nil {
			t.Fatalf("Decode accepted input that Encode refuses: %v\ninput: %q", err, b)
		}
		if !bytes.Equal(enc, b) {
			t.Fatalf("Encode(Decode(b)) != b\n got: %q\nwant: %q", enc, b)
		}
		again, err := Decode(enc)
		if err != nil || !reflect.DeepEqual(again, m) {
			t.Fatalf("Decode(Encode(m)) != m: %v", err)
		}
	})
}

// FuzzEncode builds manifests from fuzzed fields: whatever Encode accepts, Decode must
// accept and return unchanged (with files and trust in canonical order).
func FuzzEncode(f *testing.F) {
	f.Add("hello.py", "/usr/bin/python3.11", "3.11", "/usr/lib/python3.11", "pkg/a b.py", int64(7), "module", true)
	f.Add("main.py", "python/python.exe", "3.12", "C:/Python312/Lib", "python/python.exe", int64(0), "data", false)
	f.Fuzz(func(t *testing.T, entry, pythonPath, version, trust, path string, size int64, role string, sealRuntime bool) {
		m := &Manifest{
			Entry: entry, Level: LevelEnforce, PythonPath: pythonPath, PythonVersion: version,
			PythonTrust: []string{trust}, SealRuntime: sealRuntime,
			Files: []File{
				{Path: path, Size: size, SHA256: sum(path), Role: Role(role)},
				{Path: entry, Size: 1, SHA256: sum(entry), Role: RoleEntry},
			},
		}
		b, err := m.Encode()
		if err != nil {
			return
		}
		got, err := Decode(b)
		if err != nil {
			t.Fatalf("Decode refused what Encode wrote: %v\n%s", err, b)
		}
		m.Sort()
		if !reflect.DeepEqual(got, m) {
			t.Fatalf("Decode(Encode(m)) = %+v, want %+v", got, m)
		}
	})
}

func TestRequireSigner(t *testing.T) {
	pin := sum("vendor key")
	m := sample()
	m.RequireSigner = &pin
	enc, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Replace(sampleText(), "seal-runtime on\n", "seal-runtime on\nrequire-signer "+hexOf("vendor key")+"\n", 1)
	if string(enc) != want {
		t.Fatalf("Encode with RequireSigner:\n%s\nwant:\n%s", enc, want)
	}
	got, err := Decode(enc)
	if err != nil {
		t.Fatal(err)
	}
	if got.RequireSigner == nil || *got.RequireSigner != pin || !reflect.DeepEqual(got, m) {
		t.Errorf("Decode(Encode(m)) = %+v, want %+v", got, m)
	}

	line := "require-signer " + hexOf("vendor key") + "\n"
	tests := []struct {
		name     string
		input    string
		wantLine int
		want     string
	}{
		{"upper-case key", strings.Replace(want, line, "REQUIRE-SIGNER "+hexOf("vendor key")+"\n", 1), 11, "unknown record"},
		{"upper-case digest", strings.Replace(want, line, "require-signer "+strings.ToUpper(hexOf("vendor key"))+"\n", 1), 11, "upper-case hex"},
		{"short digest", strings.Replace(want, line, "require-signer abc\n", 1), 11, "64 hex digits"},
		{"no value", strings.Replace(want, line, "require-signer\n", 1), 11, "without a value"},
		{"twice", strings.Replace(want, line, line+line, 1), 12, "require-signer record out of place among file records"},
		{"before seal-runtime", strings.Replace(want, "seal-runtime on\n"+line, line+"seal-runtime on\n", 1), 10, "require-signer record out of place, want seal-runtime"},
		{"among files", strings.Replace(want, line, "", 1) + line, 18, "require-signer record out of place among file records"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode([]byte(tt.input))
			var le *LineError
			if !errors.As(err, &le) || le.Line != tt.wantLine || !strings.Contains(le.Reason, tt.want) {
				t.Errorf("Decode error = %v, want line %d containing %q", err, tt.wantLine, tt.want)
			}
		})
	}
}

// TestBundledRuntimeRoundTrip checks the manifest of a delivery with its own interpreter: the
// python-path and the python-trust paths are app paths, and they survive encode and decode.
func TestBundledRuntimeRoundTrip(t *testing.T) {
	m := &Manifest{
		Entry: "hello.py", Level: LevelEnforce, PythonPath: "runtime/bin/python3.11", PythonVersion: "3.11",
		PythonTrust: []string{"runtime/lib/python3.11", "runtime/lib/python3.11/lib-dynload", "runtime/lib/python311.zip"},
		Files: []File{
			{Path: "hello.py", Size: 5, SHA256: sum("hello"), Role: RoleEntry},
			{Path: "runtime/bin/python3.11", Size: 6, SHA256: sum("python"), Role: RoleData},
			{Path: "runtime/lib/python3.11/os.py", Size: 2, SHA256: sum("os"), Role: RoleModule},
		},
	}
	m.Sort()
	b, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode(b)
	if err != nil {
		t.Fatalf("Decode: %v\n%s", err, b)
	}
	again, err := got.Encode()
	if err != nil || !bytes.Equal(again, b) {
		t.Fatalf("re-encoded differently (%v):\n%s\nvs\n%s", err, again, b)
	}
	bad := bytes.Replace(b, []byte("python-trust runtime/lib/python3.11\n"), []byte("python-trust /usr/lib/python3.11\n"), 1)
	if _, err := Decode(bad); err == nil || !strings.Contains(err.Error(), "is absolute, but the interpreter is bundled") {
		t.Errorf("an absolute trust path with a bundled interpreter: err = %v", err)
	}
}
