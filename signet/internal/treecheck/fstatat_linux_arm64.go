package treecheck

// sysFstatat is newfstatat(2) (named fstatat on arm64), whose struct stat is syscall.Stat_t.
const sysFstatat = 79
