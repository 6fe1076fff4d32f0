package launch

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"unsafe"
)

// Job object constants (winnt.h).
const (
	jobObjectExtendedLimitInformationClass = 9
	jobObjectLimitKillOnJobClose           = 0x2000
)

// jobObjectBasicLimitInformation is JOBOBJECT_BASIC_LIMIT_INFORMATION (64-bit layout; on
// 32-bit Windows the kernel rejects the size and the job is skipped, see startJob).
type jobObjectBasicLimitInformation struct {
	PerProcessUserTimeLimit int64
	PerJobUserTimeLimit     int64
	LimitFlags              uint32
	MinimumWorkingSetSize   uintptr
	MaximumWorkingSetSize   uintptr
	ActiveProcessLimit      uint32
	Affinity                uintptr
	PriorityClass           uint32
	SchedulingClass         uint32
}

// ioCounters is IO_COUNTERS.
type ioCounters struct {
	ReadOperationCount  uint64
	WriteOperationCount uint64
	OtherOperationCount uint64
	ReadTransferCount   uint64
	WriteTransferCount  uint64
	OtherTransferCount  uint64
}

// jobObjectExtendedLimitInformation is JOBOBJECT_EXTENDED_LIMIT_INFORMATION.
type jobObjectExtendedLimitInformation struct {
	BasicLimitInformation jobObjectBasicLimitInformation
	IoInfo                ioCounters
	ProcessMemoryLimit    uintptr
	JobMemoryLimit        uintptr
	PeakProcessMemoryUsed uintptr
	PeakJobMemoryUsed     uintptr
}

var (
	kernel32                     = syscall.NewLazyDLL("kernel32.dll")
	procCreateJobObjectW         = kernel32.NewProc("CreateJobObjectW")
	procSetInformationJobObject  = kernel32.NewProc("SetInformationJobObject")
	procAssignProcessToJobObject = kernel32.NewProc("AssignProcessToJobObject")
)

// Start spawns the interpreter, waits for it and returns its exit code. The bootstrap and
// the manifest travel through an anonymous pipe whose read end only the child inherits; the
// loader writes them and closes its end. The loader puts itself into a job object with
// kill-on-close before the spawn, so the child is in the job from its first instruction and
// dies with the loader. Ctrl-C is ignored by the loader: the console delivers it to the
// child too, and the loader returns whatever the child makes of it.
func Start(cfg Config) (int, error) {
	if err := cfg.check(filepath.IsAbs); err != nil {
		return 0, err
	}
	p := BuildPayload(cfg)
	data := p.Data
	cfg.Preload = nil // data holds the payload now; nothing else should keep it alive

	var r, w syscall.Handle
	sa := &syscall.SecurityAttributes{InheritHandle: 1}
	sa.Length = uint32(unsafe.Sizeof(*sa))
	if err := syscall.CreatePipe(&r, &w, sa, 0); err != nil {
		return 0, fmt.Errorf("launch: create the payload pipe: %w", err)
	}
	closeBoth := func() { syscall.CloseHandle(r); syscall.CloseHandle(w) }
	if err := syscall.SetHandleInformation(w, syscall.HANDLE_FLAG_INHERIT, 0); err != nil {
		closeBoth()
		return 0, fmt.Errorf("launch: make the pipe's write end private: %w", err)
	}

	// Best effort: without a job (old Windows refusing a nested job) the child only
	// outlives a killed loader; what it runs is checked all the same.
	_ = startJob()

	signal.Notify(make(chan os.Signal, 1), os.Interrupt)

	cmd := &exec.Cmd{
		Path:   cfg.Interpreter,
		Args:   Argv(cfg, int(r), p),
		Env:    AllowedEnv(cfg.Environ, "windows"),
		Stdin:  os.Stdin,
		Stdout: os.Stdout,
		Stderr: os.Stderr,
		SysProcAttr: &syscall.SysProcAttr{
			AdditionalInheritedHandles: []syscall.Handle{r},
		},
	}
	if err := cmd.Start(); err != nil {
		closeBoth()
		return 0, fmt.Errorf("launch: start %s: %w", cfg.Interpreter, err)
	}
	syscall.CloseHandle(r)
	go func() {
		// An error here means the child went away without reading; Wait reports that.
		for len(data) > 0 {
			var n uint32
			if err := syscall.WriteFile(w, data, &n, nil); err != nil || n == 0 {
				break
			}
			data = data[n:]
		}
		data = nil
		syscall.CloseHandle(w)
		if cfg.HandedOver != nil {
			cfg.HandedOver()
		}
	}()
	err := cmd.Wait()
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		return 0, fmt.Errorf("launch: wait for %s: %w", cfg.Interpreter, err)
	}
	return cmd.ProcessState.ExitCode(), nil
}

// startJob creates a job object that kills its processes when its last handle closes and
// puts the loader itself into it; children created afterwards inherit the job. The handle
// is deliberately never closed: it closes when the loader exits, for any reason.
func startJob() error {
	if err := procCreateJobObjectW.Find(); err != nil {
		return err
	}
	job, _, err := procCreateJobObjectW.Call(0, 0)
	if job == 0 {
		return fmt.Errorf("launch: CreateJobObjectW: %w", err)
	}
	var info jobObjectExtendedLimitInformation
	info.BasicLimitInformation.LimitFlags = jobObjectLimitKillOnJobClose
	ok, _, err := procSetInformationJobObject.Call(job, jobObjectExtendedLimitInformationClass,
		uintptr(unsafe.Pointer(&info)), unsafe.Sizeof(info))
	if ok == 0 {
		syscall.CloseHandle(syscall.Handle(job))
		return fmt.Errorf("launch: SetInformationJobObject: %w", err)
	}
	self, err := syscall.GetCurrentProcess()
	if err != nil {
		syscall.CloseHandle(syscall.Handle(job))
		return fmt.Errorf("launch: GetCurrentProcess: %w", err)
	}
	ok, _, err = procAssignProcessToJobObject.Call(job, uintptr(self))
	if ok == 0 {
		syscall.CloseHandle(syscall.Handle(job))
		return fmt.Errorf("launch: AssignProcessToJobObject: %w", err)
	}
	return nil
}

// platformReader returns the general reader: it handles both forms itself.
func platformReader(string) string { return reader }
