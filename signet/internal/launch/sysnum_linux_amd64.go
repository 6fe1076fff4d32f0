package launch

// sysMemfdCreate is memfd_create(2) on linux/amd64 (the syscall package lacks the constant).
const sysMemfdCreate = 319
