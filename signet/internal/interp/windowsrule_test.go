package interp

import (
	"fmt"
	"io/fs"
	"reflect"
	"sort"
	"testing"
)

// fakeSDDL serves descriptors from a map; a path not in it does not exist.
func fakeSDDL(m map[string]string) sddlFunc {
	return func(p string) (string, error) {
		if s, ok := m[p]; ok {
			return s, nil
		}
		return "", fmt.Errorf("fake %s: %w", p, fs.ErrNotExist)
	}
}

func TestWindowsRule(t *testing.T) {
	progFiles := "O:" + tiSID + "G:" + tiSID + "D:PAI(A;;FA;;;" + tiSID + ")(A;;0x1301bf;;;SY)(A;;0x1301bf;;;BA)(A;;0x1200a9;;;BU)(A;OICIIO;GA;;;CO)"
	users := "O:SYG:SYD:PAI(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;;0x1200a9;;;BU)(A;;0x1200a9;;;WD)"
	good := map[string]string{
		"C:/":                                    sddlDriveRoot,
		"C:/Program Files":                       progFiles,
		"C:/Program Files/Python311":             sddlProgramFilesPython,
		"C:/Program Files/Python311/python.exe":  sddlProgramFilesPython,
		"C:/Program Files/Python311/Lib":         sddlProgramFilesPython,
		"C:/Program Files/Python311/DLLs":        sddlProgramFilesPython,
		"C:/Users":                               users,
		"C:/Users/bob":                           sddlUserLocalPython,
		"C:/Users/bob/AppData/Local/Python311":   sddlUserLocalPython,
		"C:/Users/bob/AppData":                   sddlUserLocalPython,
		"C:/Users/bob/AppData/Local":             sddlUserLocalPython,
		"C:/Users/bob/AppData/Local/Python311/x": sddlUserLocalPython,
		"C:/Python311":                           sddlDriveRootPython,
		"C:/Python311/python.exe":                sddlDriveRootPython,
	}
	with := func(extra map[string]string) map[string]string {
		m := make(map[string]string, len(good)+len(extra))
		for k, v := range good {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	pf := "C:/Program Files/Python311"
	tests := []struct {
		name  string
		sd    map[string]string
		exe   string
		trust []string
		want  []string // paths with problems
	}{
		{name: "Program Files install", sd: good, exe: pf + "/python.exe",
			trust: []string{pf + "/Lib", pf + "/DLLs", pf + "/python311.zip"}},
		{name: "user install is refused", sd: good, exe: "C:/Users/bob/AppData/Local/Python311/x",
			want: []string{"C:/Users/bob", "C:/Users/bob/AppData", "C:/Users/bob/AppData/Local", "C:/Users/bob/AppData/Local/Python311", "C:/Users/bob/AppData/Local/Python311/x"}},
		{name: "C:/Python311 inherits Modify for users", sd: good, exe: "C:/Python311/python.exe",
			want: []string{"C:/Python311", "C:/Python311/python.exe"}},
		{name: "writable exe directory", sd: with(map[string]string{pf: "O:BAD:(A;;0x1301bf;;;SY)(A;;DC;;;BU)"}), exe: pf + "/python.exe",
			want: []string{pf}},
		{name: "Program Files receiving files", sd: with(map[string]string{"C:/Program Files": "O:BAD:(A;;DC;;;BU)"}), exe: pf + "/python.exe",
			want: []string{"C:/Program Files"}},
		{name: "Program Files receiving files is fine further up", sd: with(map[string]string{"C:/Program Files": "O:BAD:(A;;DC;;;BU)"}), exe: pf + "/Sub/python.exe",
			trust: nil, want: []string{pf + "/Sub", pf + "/Sub/python.exe"}},
		{name: "missing exe", sd: good, exe: pf + "/python3.exe", want: []string{pf + "/python3.exe"}},
		{name: "missing trust with a safe parent", sd: good, exe: pf + "/python.exe", trust: []string{pf + "/Lib/site/x.zip"}},
		{name: "missing trust in a folder users can create", sd: good, exe: pf + "/python.exe", trust: []string{"C:/Python312/Lib"},
			want: []string{"C:/"}},
		{name: "unparseable descriptor", sd: with(map[string]string{pf + "/Lib": "garbage"}), exe: pf + "/python.exe", trust: []string{pf + "/Lib"},
			want: []string{pf + "/Lib"}},
		{name: "relative or UNC path", sd: good, exe: "python.exe", trust: []string{`//server/share/x`, "C:/a/../b", `C:\Python`},
			want: []string{"python.exe", "//server/share/x", "C:/a/../b", `C:\Python`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newWindowsChecker(fakeSDDL(tc.sd))
			c.checkExe(tc.exe)
			for _, p := range tc.trust {
				c.checkTrust(p)
			}
			var got []string
			for _, p := range c.problems {
				got = append(got, p.Path)
				if p.Reason == "" || p.Fix == "" {
					t.Errorf("problem without reason or fix: %+v", p)
				}
			}
			sort.Strings(got)
			want := append([]string(nil), tc.want...)
			sort.Strings(want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("problems at %q, want %q\n%v", got, want, c.problems)
			}
		})
	}
}

func TestWinParent(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"C:/a/b", "C:/a", true},
		{"C:/a", "C:/", true},
		{"C:/", "", false},
	}
	for _, tc := range tests {
		got, ok := winParent(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("winParent(%q) = %q, %v, want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
	if got := winClean("C:/a/.."); got != "C:/" {
		t.Errorf("winClean = %q", got)
	}
}
