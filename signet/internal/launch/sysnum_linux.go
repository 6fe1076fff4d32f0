//go:build linux && !386 && !amd64 && !arm && !mips && !mipsle && !ppc64 && !ppc64le

package launch

import "syscall"

// sysMemfdCreate is memfd_create(2) where the syscall package names it (arm64 279, ...).
const sysMemfdCreate = syscall.SYS_MEMFD_CREATE
