// Package e2e holds signet's end-to-end tests: they build the real `signet` tool and the
// real loader stub once, seal small Python apps with them, and run the sealed loaders as real
// processes against a real CPython, including a matrix of tampering attacks, each of which
// carries attacker code (a canary) that must never run.
//
// The interpreters are named by SIGNET_TEST_PYTHONS (a list separated like PATH; default
// /usr/bin/python3.11). A missing interpreter skips its tests, except under CI=true, where it
// fails them. SIGNET_TEST_BIN, when set, names a directory holding a prebuilt `signet` and
// `loader-stub` (static), used instead of building them, so that the tests can run inside
// another root file system (CPython 3.14 in Debian sid, see tools/test-rootfs).
//
// The loaders for windows/amd64 and linux/arm64 are run under emulators named by
// SIGNET_TEST_WINE (with SIGNET_TEST_ROOTFS_RUN) and SIGNET_TEST_QEMU_AARCH64; without them
// those tests skip. tools/test-rootfs sets them, and fails under CI=true when a tool is
// missing or a test skipped. Under wine the interpreter is a stand-in (testdata/fakepython)
// that records what the loader gave it; see TestWindowsLoaderUnderWine for what that can and
// cannot show.
package e2e
