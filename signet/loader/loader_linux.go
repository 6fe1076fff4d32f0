package loader

// envNamesFoldCase is false: Linux environment names are case-sensitive.
const envNamesFoldCase = false

// selfPayloadPath is the loader's own executable as the kernel executed it: the inode, not a
// path that someone could swap after the start.
func selfPayloadPath() string { return "/proc/self/exe" }

// appName is the application's name: the loader's file name.
func appName(loaderName string) string { return loaderName }
