package store

import (
	"context"
	"database/sql"
	"testing"
	"time"
)

// TestWatchChanges: the start, a commit by another process, and one by
// another connection of this one are each reported; WatchChanges returns
// nil when its context ends.
func TestWatchChanges(t *testing.T) {
	db, path := openTest(t)
	ctx, cancel := context.WithCancel(context.Background())
	changes := make(chan struct{}, 16)
	done := make(chan error, 1)
	go func() {
		done <- db.WatchChanges(ctx, 5*time.Millisecond, func() { changes <- struct{}{} })
	}()
	// wait drains one report, within a bound far beyond the polling.
	wait := func(what string) {
		t.Helper()
		timer := time.NewTimer(10 * time.Second)
		defer timer.Stop()
		select {
		case <-changes:
		case err := <-done:
			t.Fatalf("%s: WatchChanges returned %v", what, err)
		case <-timer.C:
			t.Fatalf("%s: no change reported within 10s", what)
		}
	}
	drain := func() {
		for {
			select {
			case <-changes:
			default:
				return
			}
		}
	}

	other, err := sql.Open("sqlite3", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	wait("the start") // from here on every commit counts
	if _, err := other.Exec("INSERT INTO rate (key, window_start, count) VALUES ('other process', 0, 1)"); err != nil {
		t.Fatal(err)
	}
	wait("a commit by another process")
	drain()
	if err := db.Tx(ctx, func(tx *Tx) error { _, err := tx.Bump("this process", time.Now()); return err }); err != nil {
		t.Fatal(err)
	}
	wait("a commit by this process's pool")

	cancel()
	if err := <-done; err != nil {
		t.Errorf("WatchChanges after its context ended = %v, want nil", err)
	}
}
