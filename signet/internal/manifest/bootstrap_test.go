package manifest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// bootstrapParser runs the manifest parser of the Python bootstrap (signet/internal/launch/bootstrap.py,
// the function alone, lifted out with ast) on its stdin and prints the header records.
const bootstrapParser = `
import ast, sys
src = open(sys.argv[1], encoding="utf-8").read()
keep = {"_APP_ROLES", "_HEADER_KEYS", "_OPTIONAL_HEADER_KEYS", "_parse_manifest", "_Files"}
body = [n for n in ast.parse(src).body
        if (isinstance(n, (ast.FunctionDef, ast.ClassDef)) and n.name in keep)
        or (isinstance(n, ast.Assign) and any(getattr(t, "id", "") in keep for t in n.targets))]
ns = {}
exec(compile(ast.Module(body=body, type_ignores=[]), "bootstrap.py", "exec"), ns)
try:
    header, trust, files = ns["_parse_manifest"](sys.stdin.read())
except ValueError as e:
    print("refused:", e)
else:
    for k in sorted(header):
        print(k, header[k])
    print("files", len(files))
    print("entry record", files.get(header["entry"]))
`

// TestBootstrapParsesManifest checks that the bootstrap's own parser accepts what Encode
// writes, with and without the optional require-signer record, and still refuses an
// unknown record.
func TestBootstrapParsesManifest(t *testing.T) {
	python := "/usr/bin/python3.11"
	if _, err := os.Stat(python); err != nil {
		t.Fatalf("this test needs CPython 3.11 at %s: %v", python, err)
	}
	bootstrap := filepath.Join("..", "launch", "bootstrap.py")
	pin := sum("vendor key")
	signed := sample()
	signed.RequireSigner = &pin
	withPin, err := signed.Encode()
	if err != nil {
		t.Fatal(err)
	}
	lazy := sample()
	lazy.VerifyAtImport = true
	withLazy, err := lazy.Encode()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, input string
		want        []string
	}{
		{"verify-at-import", string(withLazy), []string{"verify-at-import on", "files 7"}},
		{"plain", sampleText(), []string{"seal-runtime on", "files 7"}},
		{"require-signer", string(withPin), []string{"require-signer " + hexOf("vendor key"), "files 7"}},
		{"unknown record", strings.Replace(sampleText(), "seal-runtime on\n", "seal-runtime on\nrequire-colour blue\n", 1), []string{"refused: line 11: unexpected record 'require-colour'"}},
		{"require-signer twice", strings.Replace(string(withPin), "seal-runtime on\n", "seal-runtime on\nrequire-signer x\n", 1), []string{"refused: line 12: unexpected record 'require-signer'"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(python, "-I", "-S", "-c", bootstrapParser, bootstrap)
			cmd.Stdin = strings.NewReader(tt.input)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			for _, w := range tt.want {
				if !strings.Contains(string(out), w+"\n") {
					t.Errorf("bootstrap parser output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}
