package loader

import (
	"fmt"
	"os"
	"runtime"
	"syscall"
	"unsafe"
)

// verifySelf checks the loader's own Authenticode signature: first that it was made with the
// pinned key (checkSignerPin, which also gives the clearer message when it was not), then that
// Windows finds it valid (WinVerifyTrust on the same open file).
func verifySelf(f *os.File, pin [32]byte) error {
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("cannot read this loader's signature: %w", err)
	}
	if err := checkSignerPin(f, st.Size(), pin); err != nil {
		return err
	}
	if err := winVerifyTrust(f); err != nil {
		return fmt.Errorf("this loader's signature is not valid: %w", err)
	}
	return nil
}

// WinVerifyTrust, from wintrust.h and softpub.h.
const (
	wtdUINone                 = 2          // WTD_UI_NONE
	wtdRevokeNone             = 0          // WTD_REVOKE_NONE
	wtdChoiceFile             = 1          // WTD_CHOICE_FILE
	wtdStateActionIgnore      = 0          // WTD_STATEACTION_IGNORE
	wtdRevocationCheckNone    = 0x00000010 // WTD_REVOCATION_CHECK_NONE
	wtdCacheOnlyURLRetrieval  = 0x00001000 // WTD_CACHE_ONLY_URL_RETRIEVAL
	loadLibrarySearchSystem32 = 0x00000800 // LOAD_LIBRARY_SEARCH_SYSTEM32
)

type guid struct {
	Data1 uint32
	Data2 uint16
	Data3 uint16
	Data4 [8]byte
}

// actionGenericVerifyV2 is WINTRUST_ACTION_GENERIC_VERIFY_V2: Authenticode policy.
var actionGenericVerifyV2 = guid{0xaac56b, 0xcd44, 0x11d0, [8]byte{0x8c, 0xc2, 0x00, 0xc0, 0x4f, 0xc2, 0x95, 0xee}}

// winTrustFileInfo is WINTRUST_FILE_INFO.
type winTrustFileInfo struct {
	Size         uint32
	FilePath     *uint16
	File         syscall.Handle
	KnownSubject *guid
}

// winTrustData is WINTRUST_DATA (with pSignatureSettings, Windows 8 and later).
type winTrustData struct {
	Size               uint32
	PolicyCallbackData uintptr
	SIPClientData      uintptr
	UIChoice           uint32
	RevocationChecks   uint32
	UnionChoice        uint32
	File               *winTrustFileInfo
	StateAction        uint32
	StateData          uintptr
	URLReference       *uint16
	ProvFlags          uint32
	UIContext          uint32
	SignatureSettings  uintptr
}

// winVerifyTrust asks Windows whether the Authenticode signature of the open file f is valid
// and chains to a trusted root, without revocation checks (they wait on the network, and
// hang a loader that starts offline) and without fetching anything.
func winVerifyTrust(f *os.File) error {
	proc, err := wintrustProc("WinVerifyTrust")
	if err != nil {
		return err
	}
	path, err := syscall.UTF16PtrFromString(f.Name())
	if err != nil {
		return err
	}
	file := winTrustFileInfo{FilePath: path, File: syscall.Handle(f.Fd())}
	file.Size = uint32(unsafe.Sizeof(file))
	data := winTrustData{
		UIChoice:         wtdUINone,
		RevocationChecks: wtdRevokeNone,
		UnionChoice:      wtdChoiceFile,
		File:             &file,
		StateAction:      wtdStateActionIgnore,
		ProvFlags:        wtdRevocationCheckNone | wtdCacheOnlyURLRetrieval,
	}
	data.Size = uint32(unsafe.Sizeof(data))
	const noInteractiveUser = ^uintptr(0) // INVALID_HANDLE_VALUE
	r, _, _ := syscall.SyscallN(proc, noInteractiveUser,
		uintptr(unsafe.Pointer(&actionGenericVerifyV2)), uintptr(unsafe.Pointer(&data)))
	runtime.KeepAlive(&file)
	runtime.KeepAlive(&data)
	runtime.KeepAlive(f)
	if r != 0 {
		return trustError(uint32(r))
	}
	return nil
}

// wintrustProc finds a function of wintrust.dll, loaded from the system directory only (it is
// not one of the KnownDLLs, so loading it by name would search the loader's own directory
// first).
func wintrustProc(name string) (uintptr, error) {
	dll, err := syscall.UTF16PtrFromString("wintrust.dll")
	if err != nil {
		return 0, err
	}
	loadLibraryEx := syscall.NewLazyDLL("kernel32.dll").NewProc("LoadLibraryExW")
	if err := loadLibraryEx.Find(); err != nil {
		return 0, fmt.Errorf("loading wintrust.dll: %w", err)
	}
	h, _, callErr := loadLibraryEx.Call(uintptr(unsafe.Pointer(dll)), 0, loadLibrarySearchSystem32)
	if h == 0 {
		return 0, fmt.Errorf("loading wintrust.dll: %w", callErr)
	}
	proc, err := syscall.GetProcAddress(syscall.Handle(h), name)
	if err != nil {
		return 0, fmt.Errorf("wintrust.dll %s: %w", name, err)
	}
	return proc, nil
}

// trustError names the common WinVerifyTrust results.
func trustError(code uint32) error {
	var what string
	switch code {
	case 0x800B0100:
		what = "no signature"
	case 0x80096010:
		what = "the file was changed after it was signed"
	case 0x800B0101:
		what = "the signing certificate has expired or is not yet valid, and the signature has no time stamp"
	case 0x800B0109:
		what = "the signing certificate does not chain to a root this computer trusts"
	case 0x800B010A:
		what = "the certificate chain could not be built"
	case 0x800B0111:
		what = "the signing certificate was explicitly distrusted"
	case 0x800B0004:
		what = "the signature is not trusted"
	case 0x800B0001:
		what = "the file format is not supported for signatures"
	default:
		what = "rejected"
	}
	return fmt.Errorf("WinVerifyTrust: %s (0x%08X)", what, code)
}
