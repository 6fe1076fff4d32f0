package treecheck

// Windows opens files with the plain flags; a FIFO cannot appear in an NTFS tree.
const extraOpenFlags = 0
