package launch

import (
	"sort"
	"strings"
)

// allowedEverywhere are the variables handed to the interpreter on every OS: terminal,
// locale, time zone, home, user, temporary directory, display and PATH (so the app can
// run commands by name; with an absolute argv[0] CPython does not consult it).
var allowedEverywhere = []string{
	"TERM", "COLORTERM", "NO_COLOR", "COLUMNS", "LINES",
	"LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE", "LC_COLLATE", "LC_MESSAGES", "LC_MONETARY",
	"LC_NUMERIC", "LC_TIME", "LC_ADDRESS", "LC_IDENTIFICATION", "LC_MEASUREMENT",
	"LC_NAME", "LC_PAPER", "LC_TELEPHONE",
	"TZ", "HOME", "USER", "LOGNAME", "TMPDIR", "TMP", "TEMP", "PATH",
	"DISPLAY", "WAYLAND_DISPLAY", "XDG_RUNTIME_DIR",
}

// allowedWindows are added on Windows, where programs need them to find the system, the
// user's profile and the processor.
var allowedWindows = []string{
	"SystemRoot", "SystemDrive", "windir", "COMSPEC", "PATHEXT",
	"USERPROFILE", "USERNAME", "USERDOMAIN", "HOMEDRIVE", "HOMEPATH",
	"APPDATA", "LOCALAPPDATA", "ProgramData", "ALLUSERSPROFILE", "PUBLIC",
	"ProgramFiles", "ProgramFiles(x86)", "ProgramW6432",
	"CommonProgramFiles", "CommonProgramFiles(x86)", "CommonProgramW6432",
	"COMPUTERNAME", "NUMBER_OF_PROCESSORS", "OS",
	"PROCESSOR_ARCHITECTURE", "PROCESSOR_IDENTIFIER", "PROCESSOR_LEVEL", "PROCESSOR_REVISION",
}

// localeVariables name a locale; a value containing '/' names locale files by path instead.
var localeVariables = map[string]bool{"LANG": true, "LANGUAGE": true}

// AllowedEnv returns the entries of environ ("NAME=value") that the interpreter may see on
// goos, sorted by name (Windows: by upper-cased name, as CreateProcess wants), the first
// occurrence of a name winning (as getenv does). Only allow-listed names pass, so never
// PYTHON*, LD_*, GCONV_PATH, LOCPATH, OPENSSL_*, GODEBUG, __PYVENV_LAUNCHER__ or
// PYTHONEXECUTABLE. Names match case-insensitively on Windows. Locale values that name a
// file by path (contain '/') are dropped.
func AllowedEnv(environ []string, goos string) []string {
	windows := goos == "windows"
	fold := func(s string) string { return s }
	if windows {
		fold = strings.ToUpper
	}
	allowed := make(map[string]bool, len(allowedEverywhere)+len(allowedWindows))
	for _, n := range allowedEverywhere {
		allowed[fold(n)] = true
	}
	if windows {
		for _, n := range allowedWindows {
			allowed[fold(n)] = true
		}
	}
	type entry struct{ key, kv string }
	var out []entry
	seen := make(map[string]bool)
	for _, kv := range environ {
		name, value, ok := strings.Cut(kv, "=")
		key := fold(name)
		if !ok || name == "" || seen[key] || !allowed[key] || strings.IndexByte(kv, 0) >= 0 {
			continue
		}
		seen[key] = true
		if (localeVariables[key] || strings.HasPrefix(key, "LC_")) && strings.Contains(value, "/") {
			continue
		}
		out = append(out, entry{key, kv})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].key < out[j].key })
	env := make([]string, len(out))
	for i, e := range out {
		env[i] = e.kv
	}
	return env
}
