package launch

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
)

func TestBytecodeRecord(t *testing.T) {
	sum := sha256.Sum256([]byte("pyc"))
	h := hex.EncodeToString(sum[:])
	rel := "__signet_pyc__/3.11/__signet_bootstrap__.ab.pyc"
	head := "signet-manifest 1\nentry main.py\nlevel enforce\npython-path /p\npython-version 3.11\npython-sha256 -\nseal-runtime off\n"
	tests := []struct {
		name     string
		manifest string
		size     int64
		found    bool
	}{
		{"present", head + "file " + h + " 3 bytecode " + rel + "\n", 3, true},
		{"after a look-alike path", head + "file " + h + " 9 bytecode x bytecode " + rel + "\nfile " + h + " 3 bytecode " + rel + "\n", 3, true},
		{"only as the tail of another path", head + "file " + h + " 9 bytecode x bytecode " + rel + "\n", 0, false},
		{"another role", head + "file " + h + " 3 data " + rel + "\n", 0, false},
		{"no final newline", head + "file " + h + " 3 bytecode " + rel, 0, false},
		{"upper-case digest", head + "file " + strings.ToUpper(h) + " 3 bytecode " + rel + "\n", 0, false},
		{"leading zero in the size", head + "file " + h + " 03 bytecode " + rel + "\n", 0, false},
		{"size too long", head + "file " + h + " 1234567890123456789 bytecode " + rel + "\n", 0, false},
		{"absent", head, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			size, digest, found := bytecodeRecord([]byte(tt.manifest), rel)
			if found != tt.found || size != tt.size || (found && digest != sum) {
				t.Errorf("bytecodeRecord = %d, %x, %v; want %d, %v", size, digest, found, tt.size, tt.found)
			}
		})
	}
}

func TestManifestVersion(t *testing.T) {
	tests := []struct {
		manifest string
		want     string
		ok       bool
	}{
		{"signet-manifest 1\npython-version 3.11\n", "3.11", true},
		{"signet-manifest 1\npython-version 3.11", "", false},
		{"signet-manifest 1\npython-version ../x\n", "", false},
		{"signet-manifest 1\npython-version 3.1234\n", "", false},
		{"signet-manifest 1\n", "", false},
	}
	for _, tt := range tests {
		got, ok := manifestVersion([]byte(tt.manifest))
		if got != tt.want || ok != tt.ok {
			t.Errorf("manifestVersion(%q) = %q, %v; want %q, %v", tt.manifest, got, ok, tt.want, tt.ok)
		}
	}
}

func TestBytecodePaths(t *testing.T) {
	if got := BytecodePath("3.11", "pkg/mod.py"); got != "__signet_pyc__/3.11/pkg/mod.py.pyc" {
		t.Errorf("BytecodePath = %q", got)
	}
	parts := BootstrapParts("3.12")
	for i, src := range []string{bootstrapSource, bootstrapLazySource} {
		sum := sha256.Sum256([]byte(src))
		if !strings.HasPrefix(parts[i].Path, "__signet_pyc__/3.12/__signet_bootstrap") ||
			!strings.HasSuffix(parts[i].Path, "."+hex.EncodeToString(sum[:])+".pyc") || string(parts[i].Source) != src {
			t.Errorf("part %d: %q does not name the sha256 of its source", i, parts[i].Path)
		}
	}
	if parts[0].Filename != BootstrapFilename || parts[1].Filename != BootstrapLazyFilename {
		t.Errorf("file names %q %q", parts[0].Filename, parts[1].Filename)
	}
}

func FuzzBytecodeRecord(f *testing.F) {
	sum := sha256.Sum256(nil)
	h := hex.EncodeToString(sum[:])
	f.Add([]byte("signet-manifest 1\nfile "+h+" 0 bytecode a.pyc\n"), "a.pyc")
	f.Add([]byte("file "+h+" 0 bytecode x bytecode a.pyc\n"), "a.pyc")
	f.Add([]byte("\n bytecode a.pyc\n"), "a.pyc")
	f.Fuzz(func(t *testing.T, manifest []byte, rel string) {
		size, _, found := bytecodeRecord(manifest, rel)
		if !found {
			return
		}
		if size < 0 {
			t.Fatalf("negative size %d", size)
		}
		if !strings.Contains(string(manifest), " bytecode "+rel+"\n") {
			t.Fatalf("found a record that is not in the manifest")
		}
	})
}
