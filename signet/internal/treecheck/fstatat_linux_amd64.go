package treecheck

// sysFstatat is newfstatat(2), whose struct stat is syscall.Stat_t here.
const sysFstatat = 262
