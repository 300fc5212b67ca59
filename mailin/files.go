package mailin

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// File is one message read for ingest.
type File struct {
	Name string // path as given, or "-" for standard input
	Raw  []byte // nil when TooLarge
	// TooLarge is set when the message is larger than the limit given to
	// ReadFiles; it was not read.
	TooLarge bool
}

// ReadFiles reads path: a single file, every regular non-hidden file of a
// directory (sorted by name, not recursive), or "-" for stdin. maxBytes > 0
// limits each message: a larger one is returned with Raw = nil and
// TooLarge = true rather than read whole.
//
// Symbolic links in a directory are followed when they lead to a regular
// file. Names of files in a directory are filepath.Join(path, name).
func ReadFiles(path string, stdin io.Reader, maxBytes int64) ([]File, error) {
	if path == "-" {
		f, err := readLimited("-", stdin, maxBytes)
		if err != nil {
			return nil, err
		}
		return []File{f}, nil
	}
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("read messages: %w", err)
	}
	if !info.IsDir() {
		f, err := readFile(path, info, maxBytes)
		if err != nil {
			return nil, err
		}
		return []File{f}, nil
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		return nil, fmt.Errorf("read messages: %w", err)
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	var files []File
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			continue
		}
		name := filepath.Join(path, e.Name())
		info, err := os.Stat(name) // follows symbolic links
		if err != nil {
			return nil, fmt.Errorf("read messages: %w", err)
		}
		if !info.Mode().IsRegular() {
			continue
		}
		f, err := readFile(name, info, maxBytes)
		if err != nil {
			return nil, err
		}
		files = append(files, f)
	}
	return files, nil
}

// readFile reads one regular file, or only notes that it is too large.
func readFile(name string, info os.FileInfo, maxBytes int64) (File, error) {
	if maxBytes > 0 && info.Size() > maxBytes {
		return File{Name: name, TooLarge: true}, nil
	}
	fh, err := os.Open(name)
	if err != nil {
		return File{}, fmt.Errorf("read message: %w", err)
	}
	defer fh.Close()
	return readLimited(name, fh, maxBytes)
}

// readLimited reads r whole, or reports TooLarge after maxBytes+1 bytes
// (the file may have grown since it was measured, or be a stream).
func readLimited(name string, r io.Reader, maxBytes int64) (File, error) {
	if r == nil {
		return File{}, fmt.Errorf("read message %s: no input", name)
	}
	if maxBytes > 0 {
		r = io.LimitReader(r, maxBytes+1)
	}
	raw, err := io.ReadAll(r)
	if err != nil {
		return File{}, fmt.Errorf("read message %s: %w", name, err)
	}
	if maxBytes > 0 && int64(len(raw)) > maxBytes {
		return File{Name: name, TooLarge: true}, nil
	}
	return File{Name: name, Raw: raw}, nil
}
