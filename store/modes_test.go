package store

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// The database holds every mail: DESIGN §14 wants it and its write-ahead
// log private to the daemon's user.
func TestFileModes(t *testing.T) {
	tests := []struct {
		name     string
		existing fs.FileMode // mode of an empty file made before Open; 0: none
		want     fs.FileMode
	}{
		{"a new database, its WAL and SHM are 0600", 0, 0o600},
		// What createPrivate relies on: SQLite gives the -wal and -shm
		// files the mode of the database file.
		{"the WAL and SHM of an existing database take its mode", 0o640, 0o640},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			path := filepath.Join(t.TempDir(), "postdesk.db")
			if tt.existing != 0 {
				if err := os.WriteFile(path, nil, tt.existing); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(path, tt.existing); err != nil { // past the umask
					t.Fatal(err)
				}
			}
			db, err := Open(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if err := db.Tx(ctx, func(tx *Tx) error { return nil }); err != nil {
				t.Fatal(err)
			}
			for _, name := range []string{path, path + "-wal", path + "-shm"} {
				fi, err := os.Stat(name)
				if err != nil {
					t.Fatalf("%s: %v", filepath.Base(name), err)
				}
				if got := fi.Mode().Perm(); got != tt.want {
					t.Errorf("%s has mode %04o, want %04o", filepath.Base(name), got, tt.want)
				}
			}
		})
	}
}
