package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadSecretModes(t *testing.T) {
	t.Run("a new key file is made 0600", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "keys", "postdesk.key")
		key, err := LoadSecret(path)
		if err != nil || len(key) != 32 {
			t.Fatalf("LoadSecret = %d bytes, %v; want 32, nil", len(key), err)
		}
		fi, err := os.Stat(path)
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("key file mode %v, %v; want 0600", fi.Mode().Perm(), err)
		}
		again, err := LoadSecret(path)
		if err != nil || string(again) != string(key) {
			t.Fatalf("second LoadSecret = %v; want the same key", err)
		}
	})
	for _, tt := range []struct {
		mode fs.FileMode
		ok   bool
	}{{0o600, true}, {0o400, true}, {0o640, false}, {0o604, false}, {0o620, false}, {0o644, false}} {
		t.Run(tt.mode.String(), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "postdesk.key")
			if err := os.WriteFile(path, []byte("0123456789abcdef0123456789abcdef"), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, tt.mode); err != nil {
				t.Fatal(err)
			}
			_, err := LoadSecret(path)
			if tt.ok {
				if err != nil {
					t.Fatalf("LoadSecret = %v, want the key", err)
				}
				return
			}
			if !errors.Is(err, ErrSecretFileMode) {
				t.Fatalf("LoadSecret = %v, want ErrSecretFileMode", err)
			}
			mode := fmt.Sprintf("%04o", tt.mode)
			if msg := err.Error(); !strings.Contains(msg, path) || !strings.Contains(msg, mode) {
				t.Errorf("error %q does not name the file and its mode %s", msg, mode)
			}
		})
	}
}

func TestSecretValue(t *testing.T) {
	dir := t.TempDir()
	crlf := filepath.Join(dir, "crlf")
	inner := filepath.Join(dir, "inner")
	for path, data := range map[string]string{crlf: "s3cret\r\n", inner: "s3 cret\n\n"} {
		if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct {
		name, inline, file, want string
	}{
		{"inline when no file is named", "inline", "", "inline"},
		{"the file wins, its CRLF removed", "inline", crlf, "s3cret"},
		{"only trailing newlines are removed", "", inner, "s3 cret"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := SecretValue(tt.inline, tt.file)
			if err != nil || got != tt.want {
				t.Errorf("SecretValue(%q, %q) = %q, %v; want %q", tt.inline, tt.file, got, err, tt.want)
			}
		})
	}
	t.Run("a missing file is an error", func(t *testing.T) {
		if _, err := SecretValue("inline", filepath.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("SecretValue of a missing file = %v, want fs.ErrNotExist", err)
		}
	})
}
