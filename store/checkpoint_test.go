package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCheckpointsInBackground writes far more than the checkpointer lets
// the log hold and checks that the log was copied back and started over
// instead of growing: after every commit, once the checkpointer has looked
// at it, the log is at most the limit plus one transaction.
func TestCheckpointsInBackground(t *testing.T) {
	ctx := context.Background()
	const limit = 256 << 10
	events := make(chan walEvent, 1024)
	path := filepath.Join(t.TempDir(), "t.db")
	db, err := open(ctx, path, walOptions{limit: limit, restart: 4 * limit, observe: func(ev walEvent) { events <- ev }})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	for range 3 { // more connections than one, all without auto-checkpoint
		var pages int
		if err := db.sql.QueryRowContext(ctx, "PRAGMA wal_autocheckpoint").Scan(&pages); err != nil || pages != 0 {
			t.Fatalf("wal_autocheckpoint = %d, %v; want 0 (the checkpointer does it)", pages, err)
		}
	}

	const commits, rawBytes = 200, 32 << 10 // 6.4 MB of raw bytes, 25 times the limit
	var maxWAL, checkpoints int64
	for i := range commits {
		raw := make([]byte, rawBytes)
		copy(raw, fmt.Sprintf("raw %d", i))
		err := db.Tx(ctx, func(tx *Tx) error {
			_, _, err := tx.InsertRaw(&Raw{Bytes: raw, ReceivedAt: time.Now()})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		ev := waitRound(t, events, db.ckpt.commits.Load())
		maxWAL = max(maxWAL, ev.logBytes)
		if ev.checkpoint {
			checkpoints++
			if ev.done != ev.log || ev.log <= 0 {
				t.Errorf("commit %d: checkpointed %d of %d frames; want all, with no other writer", i, ev.done, ev.log)
			}
		}
	}
	if checkpoints < 10 {
		t.Errorf("%d checkpoints for %d bytes with a %d byte limit", checkpoints, commits*rawBytes, limit)
	}
	if bound := int64(limit + 2*rawBytes); maxWAL > bound {
		t.Errorf("the log reached %d bytes; want at most %d (limit plus a transaction)", maxWAL, bound)
	}
	if s := db.Checkpoints(); s.Runs != checkpoints || s.Failures != 0 {
		t.Errorf("Checkpoints() = %+v; want %d runs, no failures", s, checkpoints)
	}

	var n int
	if err := db.sql.QueryRowContext(ctx, "SELECT COUNT(*) FROM raw_messages").Scan(&n); err != nil || n != commits {
		t.Errorf("%d raw messages, %v; want %d", n, err, commits)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
	if info, err := os.Stat(path + "-wal"); err == nil && info.Size() != 0 {
		t.Errorf("-wal file has %d bytes after Close; want it emptied", info.Size())
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Error(err)
	}
	again, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if err := again.sql.QueryRowContext(ctx, "SELECT COUNT(*) FROM raw_messages").Scan(&n); err != nil || n != commits {
		t.Errorf("after reopening: %d raw messages, %v; want %d", n, err, commits)
	}
}

// waitRound returns the first round of the checkpointer that began after
// the given number of commits, blocking until there is one.
func waitRound(t *testing.T, events <-chan walEvent, commits int64) walEvent {
	t.Helper()
	for {
		ev := <-events
		if ev.err != nil {
			t.Fatalf("checkpointer: %v", ev.err)
		}
		if ev.commits >= commits {
			return ev
		}
	}
}

// TestWALIndex reads the counts the checkpointer goes by from the -shm
// file of a live database, before and after a checkpoint.
func TestWALIndex(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "t.db")
	db, err := open(ctx, path, walOptions{manual: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Tx(ctx, func(tx *Tx) error {
		_, _, err := tx.InsertRaw(&Raw{Bytes: make([]byte, 100<<10), ReceivedAt: time.Now()})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	shm, err := os.Open(path + "-shm")
	if err != nil {
		t.Fatal(err)
	}
	defer shm.Close()
	idx, ok := readWALIndex(shm)
	if !ok || idx.mxFrame < 25 || idx.nBackfill != 0 || idx.frameBytes != 4096+24 {
		t.Fatalf("wal-index %+v, %v; want 25+ frames of a 4096-byte page, none backfilled", idx, ok)
	}
	var busy, log, done uint32
	if err := db.sql.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &log, &done); err != nil {
		t.Fatal(err)
	}
	after, ok := readWALIndex(shm)
	if !ok || after.mxFrame != log || after.nBackfill != done || done != log {
		t.Errorf("after checkpointing %d of %d frames: wal-index %+v, %v", done, log, after, ok)
	}
	if _, ok := readWALIndex(strings.NewReader("not a wal-index")); ok {
		t.Error("a short file was read as a wal-index")
	}
}

// TestCheckpointHoldsWritersBack has a transaction commit while the
// checkpointer copies a long log back, as happens when mail keeps coming:
// the checkpointer then holds writers back to copy what that transaction
// wrote, so that the next transaction starts the log over.
func TestCheckpointHoldsWritersBack(t *testing.T) {
	ctx := context.Background()
	const limit = 64 << 10
	passive := make(chan struct{})
	db, err := open(ctx, filepath.Join(t.TempDir(), "t.db"), walOptions{limit: limit, restart: limit, manual: true,
		afterPassive: func() { close(passive) }})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	insert := func(tx *Tx, i int) error {
		raw := make([]byte, 32<<10)
		copy(raw, fmt.Sprintf("raw %d", i))
		_, _, err := tx.InsertRaw(&Raw{Bytes: raw, ReceivedAt: time.Now()})
		return err
	}
	for i := range 10 {
		if err := db.Tx(ctx, func(tx *Tx) error { return insert(tx, i) }); err != nil {
			t.Fatal(err)
		}
	}

	inTx, commit, txErr := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		txErr <- db.Tx(ctx, func(tx *Tx) error {
			err := insert(tx, 10)
			close(inTx)
			<-commit
			return err
		})
	}()
	<-inTx
	round := make(chan walEvent, 1)
	go func() { round <- db.ckpt.round(ctx) }()
	<-passive
	close(commit) // after the passive checkpoint: what it writes is not in the database file
	if err := <-txErr; err != nil {
		t.Fatal(err)
	}
	ev := <-round
	if ev.err != nil || !ev.restart || ev.done != ev.log {
		t.Fatalf("round = %+v; want writers held back and the whole log checkpointed", ev)
	}

	if err := db.Tx(ctx, func(tx *Tx) error { return insert(tx, 11) }); err != nil {
		t.Fatal(err)
	}
	logBytes, _, err := db.ckpt.walSize()
	if err != nil || logBytes > limit {
		t.Errorf("log of %d bytes, %v after the next commit; want it started over (at most %d)", logBytes, err, limit)
	}
	var n int
	if err := db.sql.QueryRowContext(ctx, "SELECT COUNT(*) FROM raw_messages").Scan(&n); err != nil || n != 12 {
		t.Errorf("%d raw messages, %v; want 12", n, err)
	}
	if s := db.Checkpoints(); s.Runs != 1 || s.Restarts != 1 {
		t.Errorf("Checkpoints() = %+v", s)
	}
}
