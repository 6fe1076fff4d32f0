package hashref

import (
	"crypto/sha256"
	"fmt"
	"testing"
)

// BenchmarkSHA256 hashes one buffer per iteration, at the loader's read size (256 KiB) and
// at openssl dgst's (8 KiB), streaming through hash.Hash like treecheck does.
func BenchmarkSHA256(b *testing.B) {
	for _, size := range []int{8 << 10, 256 << 10} {
		buf := make([]byte, size)
		for i := range buf {
			buf[i] = byte(i * 7)
		}
		b.Run(fmt.Sprintf("%dKiB", size>>10), func(b *testing.B) {
			b.SetBytes(int64(size))
			h := sha256.New()
			var sum [sha256.Size]byte
			for b.Loop() {
				h.Reset()
				h.Write(buf)
				h.Sum(sum[:0])
			}
		})
	}
}

func TestSHA256KnownAnswer(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		{"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
	} {
		if got := fmt.Sprintf("%x", sha256.Sum256([]byte(tc.in))); got != tc.want {
			t.Errorf("sha256(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}
