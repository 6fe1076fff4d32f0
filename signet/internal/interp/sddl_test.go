package interp

import (
	"strings"
	"testing"
)

const (
	tiSID  = "S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464"
	bobSID = "S-1-5-21-1004336348-1177238915-682003330-1001"

	// Security descriptors as Windows prints them (icacls /save, Get-Acl .Sddl).
	sddlSystem32 = "O:" + tiSID + "G:" + tiSID + "D:PAI(A;;FA;;;" + tiSID + ")(A;CIIO;GA;;;" + tiSID + ")" +
		"(A;;0x1301bf;;;SY)(A;OICIIO;GA;;;SY)(A;;0x1301bf;;;BA)(A;OICIIO;GA;;;BA)(A;;0x1200a9;;;BU)" +
		"(A;OICIIO;GXGR;;;BU)(A;OICIIO;GA;;;CO)(A;;0x1200a9;;;AC)(A;OICIIO;GXGR;;;AC)" +
		"(A;;0x1200a9;;;S-1-15-2-2)(A;OICIIO;GXGR;;;S-1-15-2-2)"
	sddlProgramFilesPython = "O:BAG:S-1-5-21-1004336348-1177238915-682003330-513D:AI(A;ID;FA;;;" + tiSID + ")" +
		"(A;CIIOID;GA;;;" + tiSID + ")(A;ID;0x1301bf;;;SY)(A;OICIIOID;GA;;;SY)(A;ID;0x1301bf;;;BA)" +
		"(A;OICIIOID;GA;;;BA)(A;ID;0x1200a9;;;BU)(A;OICIIOID;GXGR;;;BU)(A;OICIIOID;GA;;;CO)" +
		"(A;ID;0x1200a9;;;AC)(A;OICIIOID;GXGR;;;AC)(A;ID;0x1200a9;;;S-1-15-2-2)(A;OICIIOID;GXGR;;;S-1-15-2-2)"
	sddlUserLocalPython = "O:" + bobSID + "G:S-1-5-21-1004336348-1177238915-682003330-513" +
		"D:AI(A;OICIID;FA;;;SY)(A;OICIID;FA;;;BA)(A;OICIID;FA;;;" + bobSID + ")"
	// C:\ : Authenticated Users may create folders in the root itself and
	// modify what they create (inherit-only).
	sddlDriveRoot = "O:" + tiSID + "G:" + tiSID + "D:PAI(A;OICIIO;SDGXGWGR;;;AU)(A;;LC;;;AU)" +
		"(A;OICIIO;GA;;;SY)(A;;FA;;;SY)(A;OICIIO;GA;;;BA)(A;;FA;;;BA)(A;OICI;0x1200a9;;;BU)"
	// C:\Python311 created under C:\ inherits "Modify" for Authenticated Users.
	sddlDriveRootPython = "O:BAG:S-1-5-21-1004336348-1177238915-682003330-513D:AI(A;OICIID;SDGXGWGR;;;AU)" +
		"(A;OICIID;FA;;;SY)(A;OICIID;FA;;;BA)(A;OICIID;0x1200a9;;;BU)"
)

func TestParseSDDL(t *testing.T) {
	tests := []struct {
		name    string
		sddl    string
		owner   string
		null    bool
		aces    int
		wantErr string
	}{
		{name: "System32", sddl: sddlSystem32, owner: tiSID, aces: 13},
		{name: "Program Files Python", sddl: sddlProgramFilesPython, owner: "BA", aces: 13},
		{name: "user python", sddl: sddlUserLocalPython, owner: bobSID, aces: 3},
		{name: "owner abbreviation before D", sddl: "O:SOD:(A;;FA;;;SY)", owner: "SO", aces: 1},
		{name: "no DACL", sddl: "O:BAG:BA", owner: "BA", null: true},
		{name: "NO_ACCESS_CONTROL", sddl: "O:BAG:BAD:NO_ACCESS_CONTROL", owner: "BA", null: true},
		{name: "empty DACL", sddl: "O:BAD:P", owner: "BA"},
		{name: "SACL skipped", sddl: "O:BAD:(A;;FA;;;SY)S:AI(ML;;NW;;;HI)", owner: "BA", aces: 1},
		{name: "conditional ACE", sddl: `O:SYD:(XA;;FA;;;WD;(@User.Project == "x(y);z"))(A;;FA;;;SY)`, owner: "SY", aces: 2},
		{name: "decimal rights", sddl: "O:SYD:(A;;2;;;BU)", owner: "SY", aces: 1},
		{name: "empty", sddl: "", wantErr: "does not start"},
		{name: "no owner", sddl: "D:(A;;FA;;;SY)", wantErr: "owner"},
		{name: "unbalanced", sddl: "O:SYD:(A;;FA;;;SY", wantErr: "unbalanced"},
		{name: "extra close", sddl: "O:SYD:(A;;FA;;;SY))", wantErr: "unbalanced"},
		{name: "unknown right", sddl: "O:SYD:(A;;ZZ;;;SY)", wantErr: "unknown access right"},
		{name: "odd rights", sddl: "O:SYD:(A;;FAG;;;SY)", wantErr: "access rights"},
		{name: "bad hex", sddl: "O:SYD:(A;;0xZZ;;;SY)", wantErr: "access rights"},
		{name: "hex overflow", sddl: "O:SYD:(A;;0x100000000;;;SY)", wantErr: "access rights"},
		{name: "unknown section", sddl: "O:SYX:foo", wantErr: "unknown or repeated section"},
		{name: "repeated owner", sddl: "O:SYO:BA", wantErr: "unknown or repeated section"},
		{name: "audit ACE in DACL", sddl: "O:SYD:(AU;;FA;;;SY)", wantErr: "not allowed in a DACL"},
		{name: "too few fields", sddl: "O:SYD:(A;;FA;;SY)", wantErr: "fields"},
		{name: "bad SID", sddl: "O:SYD:(A;;FA;;;S-1-x)", wantErr: "bad SID"},
		{name: "bad owner", sddl: "O:sy", wantErr: "owner"},
		{name: "bad flag", sddl: "O:SYD:(A;QQ;FA;;;SY)", wantErr: "unknown ACE flag"},
		{name: "bad DACL flags", sddl: "O:SYD:QQ(A;;FA;;;SY)", wantErr: "DACL flags"},
		{name: "null DACL with entries", sddl: "O:SYD:NO_ACCESS_CONTROL(A;;FA;;;SY)", wantErr: "NO_ACCESS_CONTROL"},
		{name: "condition on plain ACE", sddl: "O:SYD:(A;;FA;;;SY;(x))", wantErr: "condition"},
		{name: "text between ACEs", sddl: "O:SYD:(A;;FA;;;SY)x(A;;FA;;;SY)", wantErr: "expected '('"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sd, err := parseSDDL(tc.sddl)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("parseSDDL(%q) error = %v, want one containing %q", tc.sddl, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseSDDL(%q): %v", tc.sddl, err)
			}
			if sd.Owner != tc.owner || sd.NullDACL != tc.null || len(sd.ACEs) != tc.aces {
				t.Errorf("got owner %q null %v %d ACEs, want %q %v %d", sd.Owner, sd.NullDACL, len(sd.ACEs), tc.owner, tc.null, tc.aces)
			}
		})
	}
}

func TestParseACEDetails(t *testing.T) {
	sd, err := parseSDDL("O:SYD:(A;OICIIO;GXGR;;;BU)(A;;0x1301bf;;;SY)(D;;SDDC;;;WD)")
	if err != nil {
		t.Fatal(err)
	}
	want := []accessEntry{
		{Type: "A", InheritOnly: true, Rights: 0x20000000 | 0x80000000, SID: "BU"},
		{Type: "A", Rights: 0x1301bf, SID: "SY"},
		{Type: "D", Rights: rightDelete | rightWriteData, SID: "WD"},
	}
	for i, w := range want {
		if sd.ACEs[i] != w {
			t.Errorf("ACE %d = %+v, want %+v", i, sd.ACEs[i], w)
		}
	}
}

func TestUnsafeReasons(t *testing.T) {
	tests := []struct {
		name string
		sddl string
		mask uint32
		want []string // substrings, one per reason; empty = safe
	}{
		{name: "System32", sddl: sddlSystem32, mask: maskTarget},
		{name: "Program Files Python", sddl: sddlProgramFilesPython, mask: maskTarget},
		{name: "user-owned, user has full access", sddl: sddlUserLocalPython, mask: maskTarget, want: []string{
			"owned by " + bobSID, "grants WRITE_DATA/ADD_FILE|", "WRITE_OWNER to " + bobSID,
		}},
		{name: "user-owned even as an ancestor", sddl: sddlUserLocalPython, mask: maskAncestor, want: []string{"owned by", "DELETE"}},
		{name: "drive root as ancestor", sddl: sddlDriveRoot, mask: maskAncestor},
		{name: "drive root may not receive pyvenv.cfg", sddl: "O:SYD:(A;;DC;;;AU)", mask: maskNoNewFiles, want: []string{"WRITE_DATA/ADD_FILE to AU"}},
		{name: "drive root allows folders only", sddl: sddlDriveRoot, mask: maskNoNewFiles},
		{name: "drive root as a target", sddl: sddlDriveRoot, mask: maskTarget, want: []string{"APPEND_DATA/ADD_SUBDIRECTORY to AU"}},
		{name: "C:/Python311 inherits Modify", sddl: sddlDriveRootPython, mask: maskTarget, want: []string{"GENERIC_WRITE", "DELETE to AU"}},
		{name: "C:/Python311 as an ancestor", sddl: sddlDriveRootPython, mask: maskAncestor, want: []string{"DELETE to AU"}},
		{name: "NULL DACL", sddl: "O:BAG:BAD:NO_ACCESS_CONTROL", mask: maskAncestor, want: []string{"no DACL"}},
		{name: "absent DACL", sddl: "O:BA", mask: maskAncestor, want: []string{"no DACL"}},
		{name: "empty DACL", sddl: "O:BAD:P", mask: maskTarget},
		{name: "everyone full control", sddl: "O:SYD:(A;;FA;;;WD)", mask: maskTarget, want: []string{"to WD"}},
		{name: "write attributes hex", sddl: "O:SYD:(A;;0x100;;;BU)", mask: maskTarget, want: []string{"WRITE_ATTRIBUTES to BU"}},
		{name: "write attributes fine above", sddl: "O:SYD:(A;;0x100;;;BU)", mask: maskAncestor},
		{name: "write DAC", sddl: "O:SYD:(A;;WD;;;BU)", mask: maskAncestor, want: []string{"WRITE_DAC to BU"}},
		{name: "take ownership", sddl: "O:SYD:(A;;WO;;;BU)", mask: maskAncestor, want: []string{"WRITE_OWNER to BU"}},
		{name: "delete child", sddl: "O:SYD:(A;;DT;;;BU)", mask: maskAncestor, want: []string{"DELETE_CHILD to BU"}},
		{name: "write EA", sddl: "O:SYD:(A;;RP;;;BU)", mask: maskTarget, want: []string{"WRITE_EA to BU"}},
		{name: "generic write", sddl: "O:SYD:(A;;GW;;;BU)", mask: maskTarget, want: []string{"GENERIC_WRITE to BU"}},
		{name: "object ACE counts", sddl: "O:SYD:(OA;;FA;;;BU)", mask: maskTarget, want: []string{"to BU"}},
		{name: "callback ACE counts", sddl: `O:SYD:(XA;;FW;;;BU;(@User.x == "1"))`, mask: maskTarget, want: []string{"to BU"}},
		{name: "deny ACEs are ignored", sddl: "O:SYD:(D;;FA;;;WD)(A;;FA;;;SY)", mask: maskTarget},
		{name: "inherit-only creator owner", sddl: "O:SYD:(A;OICIIO;GA;;;CO)", mask: maskTarget},
		{name: "creator owner applying to the object", sddl: "O:SYD:(A;;GA;;;CO)", mask: maskTarget, want: []string{"GENERIC_ALL to CO"}},
		{name: "trusted SIDs by number", sddl: "O:S-1-5-18D:(A;;FA;;;S-1-5-32-544)(A;;FA;;;S-1-5-18)", mask: maskTarget},
		{name: "owner rights is not trusted", sddl: "O:SYD:(A;;FA;;;OW)", mask: maskTarget, want: []string{"to OW"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sd, err := parseSDDL(tc.sddl)
			if err != nil {
				t.Fatalf("parseSDDL: %v", err)
			}
			got := strings.Join(unsafeReasons(sd, tc.mask), "\n")
			if len(tc.want) == 0 && got != "" {
				t.Fatalf("want safe, got %q", got)
			}
			if len(tc.want) > 0 && got == "" {
				t.Fatalf("want refused, got safe")
			}
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("reasons %q do not contain %q", got, w)
				}
			}
		})
	}
}

func FuzzParseSDDL(f *testing.F) {
	for _, s := range []string{
		sddlSystem32, sddlProgramFilesPython, sddlUserLocalPython, sddlDriveRoot, sddlDriveRootPython,
		"O:BAG:BAD:NO_ACCESS_CONTROL", `O:SYD:(XA;;FA;;;WD;(@User.Project == "x(y);z"))`,
		"O:BAD:P", "O:SYD:(A;;0x1200a9;;;BU)S:AI(ML;;NW;;;HI)", "", "O:", "D:(",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sd, err := parseSDDL(s)
		if err != nil {
			return
		}
		if sd.Owner == "" {
			t.Fatalf("parsed %q without an owner", s)
		}
		for _, mask := range []uint32{maskTarget, maskNoNewFiles, maskAncestor} {
			reasons := unsafeReasons(sd, mask)
			// A descriptor that fails a lighter level fails the stricter ones.
			if mask != maskTarget && len(reasons) > 0 && len(unsafeReasons(sd, maskTarget)) == 0 {
				t.Fatalf("%q fails mask %#x but passes the target mask", s, mask)
			}
		}
	})
}
