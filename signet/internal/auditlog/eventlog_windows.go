package auditlog

import (
	"syscall"
	"time"
	"unsafe"
)

const eventlogWarningType = 0x2 // EVENTLOG_WARNING_TYPE

// eventID is the event identifier of a refusal. The source is not
// registered, so Event Viewer shows the text as the event's insertion string.
const eventID = 1

// send reports one warning event per record to the Application log under
// the source tag, via RegisterEventSourceW / ReportEventW. advapi32.dll is
// loaded from the system directory (the syscall package lists it as a
// system DLL). The deadline is enforced by the caller's timer: these calls
// cannot be interrupted.
func send(_ []string, tag string, records []string, deadline time.Time) {
	advapi := syscall.NewLazyDLL("advapi32.dll")
	register := advapi.NewProc("RegisterEventSourceW")
	report := advapi.NewProc("ReportEventW")
	deregister := advapi.NewProc("DeregisterEventSource")
	for _, p := range []*syscall.LazyProc{register, report, deregister} {
		if p.Find() != nil {
			return
		}
	}
	source, err := syscall.UTF16PtrFromString(tag)
	if err != nil {
		return
	}
	h, _, _ := register.Call(0, uintptr(unsafe.Pointer(source)))
	if h == 0 {
		return
	}
	defer deregister.Call(h)
	for _, r := range records {
		if time.Now().After(deadline) {
			return
		}
		text, err := syscall.UTF16PtrFromString(r)
		if err != nil {
			continue
		}
		strs := [1]*uint16{text}
		report.Call(h, eventlogWarningType, 0, eventID, 0, 1, 0, uintptr(unsafe.Pointer(&strs[0])), 0)
	}
}
