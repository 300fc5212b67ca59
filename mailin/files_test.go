package mailin

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// writeFiles creates files (name → content) under dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// fileSummary is Name, content and TooLarge of each file, for comparison.
func fileSummary(files []File) []string {
	var out []string
	for _, f := range files {
		s := f.Name + "=" + string(f.Raw)
		if f.TooLarge {
			s += " (too large)"
		}
		out = append(out, s)
	}
	return out
}

func TestReadFiles(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"b.eml":         "bb",
		"a.eml":         "a",
		".hidden.eml":   "hidden",
		"sub/c.eml":     "nested",
		"big.eml":       "0123456789",
		"exactly10.eml": "0123456789",
	})
	if err := os.Symlink(filepath.Join(dir, "a.eml"), filepath.Join(dir, "link.eml")); err != nil {
		t.Fatal(err)
	}
	join := func(name string) string { return filepath.Join(dir, name) }
	tests := []struct {
		name     string
		path     string
		stdin    string
		maxBytes int64
		want     []string
	}{
		{"directory: regular non-hidden files sorted, not recursive", dir, "", 0, []string{
			join("a.eml") + "=a", join("b.eml") + "=bb", join("big.eml") + "=0123456789",
			join("exactly10.eml") + "=0123456789", join("link.eml") + "=a",
		}},
		{"directory with a limit marks larger files", dir, "", 2, []string{
			join("a.eml") + "=a", join("b.eml") + "=bb", join("big.eml") + "= (too large)",
			join("exactly10.eml") + "= (too large)", join("link.eml") + "=a",
		}},
		{"single file", join("b.eml"), "", 0, []string{join("b.eml") + "=bb"}},
		{"single file at the limit is read", join("exactly10.eml"), "", 10, []string{join("exactly10.eml") + "=0123456789"}},
		{"single file over the limit", join("big.eml"), "", 9, []string{join("big.eml") + "= (too large)"}},
		{"standard input", "-", "From: x\r\n\r\nhi", 0, []string{"-=From: x\r\n\r\nhi"}},
		{"standard input over the limit", "-", strings.Repeat("x", 100), 10, []string{"-= (too large)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files, err := ReadFiles(tt.path, strings.NewReader(tt.stdin), tt.maxBytes)
			if err != nil {
				t.Fatalf("ReadFiles: %v", err)
			}
			if got := fileSummary(files); !slices.Equal(got, tt.want) {
				t.Errorf("ReadFiles(%q) = %q, want %q", tt.path, got, tt.want)
			}
			for _, f := range files {
				if f.TooLarge && f.Raw != nil {
					t.Errorf("%s: too large but Raw kept", f.Name)
				}
			}
		})
	}
}

func TestReadFilesErrors(t *testing.T) {
	t.Run("missing path", func(t *testing.T) {
		_, err := ReadFiles(filepath.Join(t.TempDir(), "nope.eml"), nil, 0)
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("error = %v, want fs.ErrNotExist", err)
		}
	})
	t.Run("standard input without reader", func(t *testing.T) {
		if _, err := ReadFiles("-", nil, 0); err == nil {
			t.Error("no error for missing stdin")
		}
	})
	t.Run("empty directory gives no files", func(t *testing.T) {
		files, err := ReadFiles(t.TempDir(), nil, 0)
		if err != nil || len(files) != 0 {
			t.Errorf("ReadFiles(empty dir) = %v, %v; want no files, no error", files, err)
		}
	})
}
