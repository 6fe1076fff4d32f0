package keystore

import (
	"errors"
	"strings"
	"testing"
	"time"

	keyring "github.com/zalando/go-keyring"
)

// fakeBackend answers every call with err, after block is closed (if set).
type fakeBackend struct {
	err   error
	block chan struct{}
}

func (f fakeBackend) wait() error {
	if f.block != nil {
		<-f.block
	}
	return f.err
}
func (f fakeBackend) Set(string, string, string) error { return f.wait() }
func (f fakeBackend) Get(string, string) (string, error) {
	if err := f.wait(); err != nil {
		return "", err
	}
	return "from-fake", nil
}
func (f fakeBackend) Delete(string, string) error { return f.wait() }
func (f fakeBackend) DeleteAll(string) error      { return f.wait() }

func withFake(t *testing.T, f fakeBackend, d time.Duration) {
	t.Helper()
	oldB, oldP, oldT := backend, probe, timeout
	backend, probe, timeout = f, func() error { return nil }, d
	t.Cleanup(func() { backend, probe, timeout = oldB, oldP, oldT })
}

// ops runs each public operation and returns its error.
var ops = []struct {
	name string
	run  func() error
}{
	{"Save", func() error { return Save("acct", []byte("hunter2")) }},
	{"Load", func() error { _, err := Load("acct"); return err }},
	{"Delete", func() error { return Delete("acct") }},
}

func TestErrorMapping(t *testing.T) {
	for _, tc := range []struct {
		name    string
		err     error
		wantIs  error
		wantMsg string
	}{
		{"not found", keyring.ErrNotFound, ErrNotFound, "no entry in the OS keystore"},
		{"unsupported OS", keyring.ErrUnsupportedPlatform, ErrUnavailable, "no OS keystore available: unsupported platform"},
		{"other failure", errors.New("the bus caught fire"), nil, "the OS keystore (" + Name() + "): the bus caught fire"},
	} {
		for _, op := range ops {
			t.Run(tc.name+"/"+op.name, func(t *testing.T) {
				withFake(t, fakeBackend{err: tc.err}, time.Minute)
				err := op.run()
				if err == nil {
					t.Fatal("no error")
				}
				if tc.wantIs != nil && !errors.Is(err, tc.wantIs) {
					t.Errorf("error %q is not %v", err, tc.wantIs)
				}
				if tc.wantIs == nil && (errors.Is(err, ErrNotFound) || errors.Is(err, ErrUnavailable)) {
					t.Errorf("error %q wrongly mapped", err)
				}
				if !strings.Contains(err.Error(), tc.wantMsg) {
					t.Errorf("error %q does not contain %q", err, tc.wantMsg)
				}
				if strings.Contains(err.Error(), "hunter2") {
					t.Errorf("error %q contains the secret", err)
				}
			})
		}
	}
}

func TestSuccessPassesThrough(t *testing.T) {
	withFake(t, fakeBackend{}, time.Minute)
	if err := Save("acct", []byte("x")); err != nil {
		t.Fatal(err)
	}
	got, err := Load("acct")
	if err != nil || string(got) != "from-fake" {
		t.Fatalf("Load = %q, %v", got, err)
	}
	if err := Delete("acct"); err != nil {
		t.Fatal(err)
	}
}

func TestTimeout(t *testing.T) {
	block := make(chan struct{})
	defer close(block)
	withFake(t, fakeBackend{block: block}, 50*time.Millisecond)
	for _, op := range ops {
		t.Run(op.name, func(t *testing.T) {
			start := time.Now()
			err := op.run()
			if err == nil || !strings.Contains(err.Error(), "no answer within 50ms") {
				t.Fatalf("error %v, want a timeout", err)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}

func TestProbeFailureStopsBeforeTheBackend(t *testing.T) {
	called := make(chan struct{}, 3)
	oldB, oldP := backend, probe
	backend = recordingBackend{called}
	probe = func() error { return ErrUnavailable }
	t.Cleanup(func() { backend, probe = oldB, oldP })
	for _, op := range ops {
		if err := op.run(); !errors.Is(err, ErrUnavailable) {
			t.Errorf("%s: error %v, want ErrUnavailable", op.name, err)
		}
	}
	if len(called) != 0 {
		t.Errorf("the backend was called %d times after the probe failed", len(called))
	}
}

type recordingBackend struct{ called chan struct{} }

func (r recordingBackend) Set(string, string, string) error   { r.called <- struct{}{}; return nil }
func (r recordingBackend) Get(string, string) (string, error) { r.called <- struct{}{}; return "", nil }
func (r recordingBackend) Delete(string, string) error        { r.called <- struct{}{}; return nil }
func (r recordingBackend) DeleteAll(string) error             { r.called <- struct{}{}; return nil }

func TestRefusesBadArguments(t *testing.T) {
	withFake(t, fakeBackend{}, time.Minute)
	if err := Save("", []byte("x")); err == nil {
		t.Error("Save accepted an empty account")
	}
	if err := Save("acct", make([]byte, MaxSecret+1)); err == nil || !strings.Contains(err.Error(), "longer than") {
		t.Errorf("Save of %d bytes: %v", MaxSecret+1, err)
	}
	if err := Save("acct", make([]byte, MaxSecret)); err != nil {
		t.Errorf("Save of %d bytes: %v", MaxSecret, err)
	}
}
