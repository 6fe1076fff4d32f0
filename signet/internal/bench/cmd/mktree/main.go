// Command mktree writes a deterministic synthetic app tree for signet's benchmarks.
//
//	mktree -files 5000 -total 524288000 [-seed 1] [-text] DIR
//
// It writes files d000/f00000.dat, d000/f00001.dat, ... (100 per directory) whose sizes add
// up to -total bytes. Content comes from a ChaCha8 generator seeded with -seed, so the same
// flags always give the same bytes. With -text the files are Python modules (.py) holding
// an assignment and a hex comment instead of random bytes. DIR must not exist yet.
package main

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
)

const filesPerDir = 100

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "mktree: %v\n", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("mktree", flag.ContinueOnError)
	files := fs.Int("files", 5000, "number of files")
	total := fs.Int64("total", 500<<20, "total bytes over all files")
	seed := fs.Uint64("seed", 1, "seed of the content generator")
	text := fs.Bool("text", false, "write small Python modules (.py) instead of random bytes")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("want exactly one directory argument")
	}
	if *files < 1 || *total < int64(*files) {
		return errors.New("-files must be at least 1 and -total at least -files")
	}
	return write(fs.Arg(0), *files, *total, *seed, *text)
}

// write creates dir and the files in it.
func write(dir string, files int, total int64, seed uint64, text bool) error {
	if err := os.Mkdir(dir, 0o755); err != nil {
		return fmt.Errorf("creating the tree root: %w", err)
	}
	var key [32]byte
	binary.LittleEndian.PutUint64(key[:], seed)
	rng := rand.NewChaCha8(key)
	base, extra := total/int64(files), total%int64(files)
	ext := ".dat"
	if text {
		ext = ".py"
	}
	for i := 0; i < files; i++ {
		sub := filepath.Join(dir, fmt.Sprintf("d%03d", i/filesPerDir))
		if i%filesPerDir == 0 {
			if err := os.Mkdir(sub, 0o755); err != nil {
				return fmt.Errorf("creating %s: %w", sub, err)
			}
		}
		size := base
		if int64(i) < extra {
			size++
		}
		b := content(rng, i, size, text)
		name := filepath.Join(sub, fmt.Sprintf("f%05d%s", i, ext))
		if err := os.WriteFile(name, b, 0o644); err != nil {
			return fmt.Errorf("writing %s: %w", name, err)
		}
	}
	return nil
}

// content returns size bytes for file i: random bytes, or a Python module padded to size
// with a hex comment (the module may be longer than size when size is tiny).
func content(rng *rand.ChaCha8, i int, size int64, text bool) []byte {
	if !text {
		b := make([]byte, size)
		_, _ = rng.Read(b) // ChaCha8.Read never fails
		return b
	}
	b := fmt.Appendf(nil, "V = %d\n# ", i)
	raw := make([]byte, max(0, (size-int64(len(b))-1)/2))
	_, _ = rng.Read(raw)
	b = hex.AppendEncode(b, raw)
	for int64(len(b)) < size-1 {
		b = append(b, ' ')
	}
	return append(b, '\n')
}
