// Package testtool finds the external programs that tests use as independent oracles
// (openssl, osslsigncode, exiftool, a real keyring, ...). Without one, a test fails when
// CI=true, since CI installs every tool the tests need, and is skipped elsewhere, with a
// message that names the Debian package to install.
package testtool

import (
	"os"
	"os/exec"
	"testing"
)

// debianPackages names the Debian package of each program the tests look for, for the
// message; .ci/run installs them.
var debianPackages = map[string]string{
	"dbus-run-session":     "dbus",
	"exiftool":             "libimage-exiftool-perl",
	"gnome-keyring-daemon": "gnome-keyring",
	"openssl":              "openssl",
	"osslsigncode":         "osslsigncode",
	"script":               "bsdutils",
	"secret-tool":          "libsecret-tools",
	"wrestool":             "icoutils",
}

// Need returns the path of the program name found on PATH. When it is missing, the test
// fails if CI=true and is skipped otherwise.
func Need(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	hint := ""
	if pkg, ok := debianPackages[name]; ok {
		hint = " (apt-get install " + pkg + ")"
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is required in CI but not found on PATH%s: %v", name, hint, err)
	}
	t.Skipf("%s not found on PATH%s; set CI=true to make this a failure", name, hint)
	return ""
}
