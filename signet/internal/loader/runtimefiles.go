package loader

import (
	"crypto/sha256"
	"errors"
	"io"
	"io/fs"
	"os"
	"runtime"
	"strconv"
	"sync"

	"github.com/signet-dev/signet/signet/internal/manifest"
)

// checkRuntimeFiles hashes the sealed interpreter files (role runtime, absolute paths) on all
// cores and returns one line per file that is not as sealed, in manifest order. Unlike the app
// tree, the interpreter's directories are not scanned for unexpected entries: they are
// trusted by ownership (interp.Check), and these digests pin the files they hold.
func checkRuntimeFiles(files []manifest.File) []string {
	results := make([]string, len(files))
	jobs := make(chan int)
	workers := runtime.NumCPU()
	if workers > len(files) {
		workers = len(files)
	}
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 256<<10)
			for i := range jobs {
				results[i] = checkRuntimeFile(files[i], buf)
			}
		}()
	}
	for i := range files {
		jobs <- i
	}
	close(jobs)
	wg.Wait()

	var problems []string
	for _, r := range results {
		if r != "" {
			problems = append(problems, r)
		}
	}
	return problems
}

// checkRuntimeFile returns "" when the file at f.Path is a regular file with the sealed size
// and digest, else a "KIND path: detail" line. What is hashed is what was opened: the type
// and size come from the open descriptor.
func checkRuntimeFile(f manifest.File, buf []byte) string {
	file, err := os.Open(f.Path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "MISSING " + f.Path
		}
		return "MODIFIED " + f.Path + ": cannot be opened: " + err.Error()
	}
	defer file.Close()
	info, err := file.Stat()
	if err != nil {
		return "MODIFIED " + f.Path + ": cannot be examined: " + err.Error()
	}
	if !info.Mode().IsRegular() {
		return "MODIFIED " + f.Path + ": is not a regular file"
	}
	if info.Size() != f.Size {
		return "MODIFIED " + f.Path + ": size is " + strconv.FormatInt(info.Size(), 10) +
			" bytes, sealed " + strconv.FormatInt(f.Size, 10)
	}
	h := sha256.New()
	n, err := io.CopyBuffer(h, io.LimitReader(file, f.Size+1), buf)
	switch {
	case err != nil:
		return "MODIFIED " + f.Path + ": cannot be read: " + err.Error()
	case n != f.Size:
		return "MODIFIED " + f.Path + ": size changed while being checked"
	}
	var sum [32]byte
	h.Sum(sum[:0])
	if sum != f.SHA256 {
		return "MODIFIED " + f.Path + ": content differs from the sealed digest"
	}
	return ""
}
