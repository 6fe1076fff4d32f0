//go:build linux && (mips || mipsle)

package launch

// sysMemfdCreate is memfd_create(2) on linux/mips and linux/mipsle (o32 ABI).
const sysMemfdCreate = 4354
