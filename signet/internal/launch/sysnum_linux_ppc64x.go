//go:build linux && (ppc64 || ppc64le)

package launch

// sysMemfdCreate is memfd_create(2) on linux/ppc64 and linux/ppc64le.
const sysMemfdCreate = 360
