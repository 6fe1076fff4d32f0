package loader

import "testing"

func TestAppNameStripsExe(t *testing.T) {
	tests := map[string]string{"hello.exe": "hello", "Hello.EXE": "Hello", "hello": "hello", ".exe": ".exe", "a.exe.txt": "a.exe.txt"}
	for in, want := range tests {
		if got := appName(in); got != want {
			t.Errorf("appName(%q) = %q, want %q", in, got, want)
		}
	}
}
