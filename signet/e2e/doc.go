// Package e2e holds signet's end-to-end tests: they build the real `signet` tool and the
// real loader stub once, seal small Python apps with them, and run the sealed loaders as real
// processes against a real CPython, including a matrix of tampering attacks, each of which
// carries attacker code (a canary) that must never run.
//
// The interpreters are named by SIGNET_TEST_PYTHONS (a list separated like PATH; default
// /usr/bin/python3.11). A missing interpreter skips its tests, except under CI=true, where it
// fails them.
package e2e
