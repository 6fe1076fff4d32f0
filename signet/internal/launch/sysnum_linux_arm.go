package launch

// sysMemfdCreate is memfd_create(2) on linux/arm (the syscall package lacks the constant).
const sysMemfdCreate = 385
