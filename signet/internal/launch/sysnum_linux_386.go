package launch

// sysMemfdCreate is memfd_create(2) on linux/386 (the syscall package lacks the constant).
const sysMemfdCreate = 356
