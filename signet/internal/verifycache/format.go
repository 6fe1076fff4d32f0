package verifycache

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/signet-dev/signet/signet/internal/treecheck"
)

// The cache file: magic, the 32-byte key, a record count, then per record the file index
// (uint32) and the identity (seven 64-bit fields), all little-endian.
var magic = []byte("signet-vcache 1\n")

const (
	headerSize = 16 + 32 + 4
	recordSize = 4 + 7*8
)

// maxSize is the largest cache file for n files.
func maxSize(n int) int64 { return headerSize + int64(n)*recordSize }

// encode writes the remembered records of c.
func (c *Cache) encode() []byte {
	n := 0
	for _, r := range c.records {
		if r.set {
			n++
		}
	}
	b := make([]byte, 0, headerSize+n*recordSize)
	b = append(b, magic...)
	b = append(b, c.key[:]...)
	b = binary.LittleEndian.AppendUint32(b, uint32(n))
	for i, r := range c.records {
		if !r.set {
			continue
		}
		b = binary.LittleEndian.AppendUint32(b, uint32(i))
		for _, v := range []uint64{r.id.Dev, r.id.Ino, uint64(r.id.Size), uint64(r.id.MtimeSec),
			uint64(r.id.MtimeNsec), uint64(r.id.CtimeSec), uint64(r.id.CtimeNsec)} {
			b = binary.LittleEndian.AppendUint64(b, v)
		}
	}
	return b
}

// errDamaged is returned for a cache file that is not exactly what encode writes.
var errDamaged = errors.New("damaged cache file")

// decode reads a cache file for key and n files into records (len n). Anything but the
// exact form encode writes, with strictly increasing indexes below n, is refused.
func decode(b []byte, key [32]byte, n int) ([]record, error) {
	if len(b) < headerSize || !bytes.Equal(b[:16], magic) {
		return nil, errDamaged
	}
	if !bytes.Equal(b[16:48], key[:]) {
		return nil, fmt.Errorf("%w: for another manifest", errDamaged)
	}
	count := binary.LittleEndian.Uint32(b[48:52])
	if uint64(count) > uint64(n) || int64(len(b)) != headerSize+int64(count)*recordSize {
		return nil, errDamaged
	}
	records := make([]record, n)
	prev := -1
	for p := b[headerSize:]; len(p) > 0; p = p[recordSize:] {
		i := int(binary.LittleEndian.Uint32(p))
		if i <= prev || i >= n {
			return nil, errDamaged
		}
		prev = i
		v := func(k int) uint64 { return binary.LittleEndian.Uint64(p[4+8*k:]) }
		records[i] = record{set: true, id: treecheck.FileID{Dev: v(0), Ino: v(1), Size: int64(v(2)),
			MtimeSec: int64(v(3)), MtimeNsec: int64(v(4)), CtimeSec: int64(v(5)), CtimeNsec: int64(v(6))}}
	}
	return records, nil
}
