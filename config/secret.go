package config

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ErrSecretFileMode means desk.secret_file may be read or written by group
// or others (DESIGN §14): whoever reads it can forge our Message-IDs.
var ErrSecretFileMode = errors.New("group or others may access it")

// LoadSecret reads desk.secret_file, the HMAC key of our Message-IDs,
// creating the file with a fresh random key (mode 0600) when it does not
// exist. A file that group or others may access is refused
// (ErrSecretFileMode).
func LoadSecret(path string) ([]byte, error) {
	key, err := readSecret(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return key, err
	}
	key = make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("create secret file: %w", err)
		}
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return LoadSecret(path) // another process made it first
	}
	if err != nil {
		return nil, fmt.Errorf("create secret file: %w", err)
	}
	if _, err := f.Write(key); err != nil {
		f.Close()
		return nil, fmt.Errorf("write secret file: %w", err)
	}
	return key, f.Close()
}

// readSecret reads an existing key file, checking its mode first.
func readSecret(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read secret file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read secret file: %w", err)
	}
	if mode := fi.Mode().Perm(); mode&0o077 != 0 {
		return nil, fmt.Errorf("secret file %s has mode %04o: %w; chmod 600 %s", path, mode, ErrSecretFileMode, path)
	}
	key, err := io.ReadAll(io.LimitReader(f, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("read secret file: %w", err)
	}
	if len(key) < 16 {
		return nil, fmt.Errorf("secret file %s: key shorter than 16 bytes", path)
	}
	return key, nil
}

// SecretValue is a password given inline or in a file (password and
// password_file of [[mailbox]] and [smtp]; trailing newline removed).
func SecretValue(inline, file string) (string, error) {
	if file == "" {
		return inline, nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("read password file: %w", err)
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}
