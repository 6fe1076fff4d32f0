// Package hashref holds reference benchmarks of the hash the loader uses (Go's
// crypto/sha256) on in-memory buffers, with no file I/O, so that the verifier's end-to-end
// throughput can be set against the raw speed of the hash and against
// `openssl speed -evp sha256` at the same block size. It has no non-test code.
package hashref
