package launch

import (
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
)

func TestAllowedEnv(t *testing.T) {
	tests := []struct {
		name    string
		environ []string
		goos    string
		want    []string
	}{
		{
			name: "dangerous variables are dropped",
			environ: []string{
				"PYTHONPATH=/evil", "PYTHONSTARTUP=/evil.py", "PYTHONINSPECT=1", "PYTHONHOME=/x",
				"PYTHONEXECUTABLE=/x", "__PYVENV_LAUNCHER__=/x", "LD_PRELOAD=/evil.so",
				"LD_LIBRARY_PATH=/evil", "LD_AUDIT=/evil.so", "GCONV_PATH=/evil", "LOCPATH=/evil",
				"OPENSSL_CONF=/evil.cnf", "OPENSSL_MODULES=/evil", "GODEBUG=x=1", "SSL_CERT_FILE=/x",
				"HOME=/home/u",
			},
			goos: "linux",
			want: []string{"HOME=/home/u"},
		},
		{
			name:    "sorted by name, first occurrence wins",
			environ: []string{"TERM=xterm", "PATH=/bin", "HOME=/a", "HOME=/b", "LANG=C.UTF-8"},
			goos:    "linux",
			want:    []string{"HOME=/a", "LANG=C.UTF-8", "PATH=/bin", "TERM=xterm"},
		},
		{
			name:    "names are case-sensitive off Windows",
			environ: []string{"home=/a", "Path=/bin", "HOME=/b"},
			goos:    "linux",
			want:    []string{"HOME=/b"},
		},
		{
			name:    "locale values naming a file by path are dropped",
			environ: []string{"LC_ALL=/tmp/evil", "LANG=../evil", "LC_CTYPE=en_US.UTF-8", "TZ=Europe/Berlin"},
			goos:    "linux",
			want:    []string{"LC_CTYPE=en_US.UTF-8", "TZ=Europe/Berlin"},
		},
		{
			name:    "malformed entries are dropped",
			environ: []string{"HOME", "=HOME=/x", "", "TERM=a\x00b", "USER=u"},
			goos:    "linux",
			want:    []string{"USER=u"},
		},
		{
			name:    "Windows system variables stay only on Windows",
			environ: []string{"SystemRoot=C:\\Windows", "TEMP=C:\\t"},
			goos:    "linux",
			want:    []string{"TEMP=C:\\t"},
		},
		{
			name: "Windows matches names case-insensitively and sorts by upper-cased name",
			environ: []string{
				"=C:=C:\\x", "Path=C:\\bin", "SYSTEMROOT=C:\\Windows", "windir=C:\\Windows",
				"PATH=C:\\evil", "pythonpath=C:\\evil", "ComSpec=C:\\cmd.exe", "Ld_Preload=x",
			},
			goos: "windows",
			want: []string{"ComSpec=C:\\cmd.exe", "Path=C:\\bin", "SYSTEMROOT=C:\\Windows", "windir=C:\\Windows"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := AllowedEnv(tt.environ, tt.goos)
			if !slices.Equal(got, tt.want) {
				t.Errorf("AllowedEnv(%q, %s)\n got %q\nwant %q", tt.environ, tt.goos, got, tt.want)
			}
		})
	}
}

// forbiddenEnv matches the variable names that must never reach the interpreter.
var forbiddenEnv = regexp.MustCompile(`(?i)^(PYTHON.*|LD_.*|GCONV_PATH|LOCPATH|OPENSSL_.*|GODEBUG|__PYVENV_LAUNCHER__)$`)

func FuzzAllowedEnv(f *testing.F) {
	f.Add("PYTHONPATH=/x\nHOME=/h\nPath=C:\\x", true)
	f.Add("LC_ALL=/x\nLANG=C\nLANG=D\n=C:=C:\\", false)
	f.Add("TERM=x\x00y\nUSER=\n", false)
	f.Fuzz(func(t *testing.T, joined string, windows bool) {
		goos := "linux"
		if windows {
			goos = "windows"
		}
		environ := strings.Split(joined, "\n")
		got := AllowedEnv(environ, goos)
		seen := map[string]bool{}
		prev := ""
		for _, kv := range got {
			name, _, ok := strings.Cut(kv, "=")
			if !ok || name == "" || strings.IndexByte(kv, 0) >= 0 {
				t.Fatalf("malformed entry %q passed", kv)
			}
			if forbiddenEnv.MatchString(name) {
				t.Fatalf("forbidden variable %q passed", kv)
			}
			if !slices.Contains(environ, kv) {
				t.Fatalf("entry %q was not in the input", kv)
			}
			key := name
			if windows {
				key = strings.ToUpper(name)
			}
			if seen[key] {
				t.Fatalf("variable %q passed twice", name)
			}
			seen[key] = true
			if key < prev {
				t.Fatalf("output not sorted: %q after %q", key, prev)
			}
			prev = key
		}
	})
}

func TestArgv(t *testing.T) {
	cfg := Config{
		Interpreter: "/usr/bin/python3.11",
		AppRoot:     "/opt/app",
		Loader:      "/opt/app/hello",
		AppName:     "hello",
		Args:        []string{"--", "-c", "x y"},
	}
	// The reader for each form: on Linux one per form, elsewhere the general one.
	readers := map[string]string{"pyc": reader, "py": reader}
	if runtime.GOOS == "linux" {
		readers = map[string]string{"pyc": readerPyc, "py": readerPy}
	}
	for _, form := range []string{"pyc", "py"} {
		got := Argv(cfg, 3, Payload{Form: form, BootLen: 1234, LazyLen: 567, PycLen: 89})
		want := []string{
			"/usr/bin/python3.11", "-I", "-S", "-B", "-X", "frozen_modules=on", "-c", readers[form],
			"3", form, "1234", "567", "89",
			"/opt/app", "/opt/app/hello", "hello", "--", "--", "-c", "x y",
		}
		if !slices.Equal(got, want) {
			t.Errorf("form %s: Argv =\n%q\nwant\n%q", form, got, want)
		}
	}
}

func TestConfigCheck(t *testing.T) {
	isAbs := func(p string) bool { return strings.HasPrefix(p, "/") }
	good := Config{Interpreter: "/py", AppRoot: "/app", Loader: "/app/l", AppName: "l", Manifest: []byte("m")}
	tests := []struct {
		name   string
		modify func(*Config)
		want   string // substring of the error; "" for no error
	}{
		{"valid", func(*Config) {}, ""},
		{"relative interpreter", func(c *Config) { c.Interpreter = "python3" }, "interpreter path"},
		{"relative app root", func(c *Config) { c.AppRoot = "app" }, "app root path"},
		{"relative loader", func(c *Config) { c.Loader = "l" }, "loader path"},
		{"empty manifest", func(c *Config) { c.Manifest = nil }, "empty manifest"},
		{"NUL in an argument", func(c *Config) { c.Args = []string{"a\x00b"} }, "NUL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := good
			tt.modify(&cfg)
			err := cfg.check(isAbs)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("check() = %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("check() = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestBootstrapAgreesWithGo(t *testing.T) {
	for _, want := range []string{
		"_EXIT_REFUSED = 106",                                // ExitRefused
		`argv[9] != "--"`,                                    // the layout built by Argv
		`_BYTECODE_DIR = "` + BytecodeDir + `"`,              // sealed bytecode
		`"` + BootstrapLazyFilename + `"`,                    // the lazy part's file name
		`"signet-manifest 1"`,                                // the manifest header
		`_MAIN_NAME = "__signet_main__"`,                     // docs/design.md
		`"entry", "module", "extension", "bytecode", "data"`, // the roles
	} {
		if !strings.Contains(bootstrapSource, want) {
			t.Errorf("bootstrap.py does not contain %q", want)
		}
	}
	if ExitRefused != 106 {
		t.Errorf("ExitRefused = %d, want 106", ExitRefused)
	}
	for _, r := range []string{reader, platformReader("py")} {
		if !strings.Contains(r, "'"+BootstrapFilename+"'") {
			t.Errorf("the reader does not compile the bootstrap as %s:\n%s", BootstrapFilename, r)
		}
	}
	p := BuildPayload(Config{AppRoot: "/nonexistent", Manifest: []byte("M")})
	n := p.BootLen
	if p.Form != "py" || n != len(bootstrapSource) || p.LazyLen != len(bootstrapLazySource) ||
		string(p.Data[:n]) != bootstrapSource ||
		string(p.Data[n:n+p.LazyLen]) != bootstrapLazySource || string(p.Data[n+p.LazyLen:]) != "M" {
		t.Errorf("payload layout wrong: form %s, bootstrap length %d of %d bytes", p.Form, n, len(p.Data))
	}
}
