package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"testing"
	"time"
)

// TestCheckWrite: a real write succeeds; while another process holds the
// write lock it fails within the caller's deadline instead of SQLite's
// busy timeout; once the lock is gone it succeeds again.
func TestCheckWrite(t *testing.T) {
	ctx := context.Background()
	db, path := openTest(t)
	at := time.Date(2026, 5, 1, 10, 30, 0, 0, time.UTC)
	if err := db.CheckWrite(ctx, at); err != nil {
		t.Fatalf("CheckWrite on a free database: %v", err)
	}

	other, err := sql.Open("sqlite3", "file:"+path+"?_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	lock, err := other.Begin() // BEGIN IMMEDIATE: the write lock, held
	if err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	began := time.Now()
	err = db.CheckWrite(short, at)
	if err == nil {
		t.Fatal("CheckWrite succeeded while another connection held the write lock")
	}
	// The property is that the wait ends with the caller's deadline, not
	// after SQLite's busy timeout of the pool's connections.
	if waited := time.Since(began); waited >= busyTimeout/2 {
		t.Errorf("CheckWrite waited %v for the lock, more than half the pool's busy timeout %v", waited, busyTimeout)
	}
	t.Logf("CheckWrite while locked: %v", err)
	if err := lock.Rollback(); err != nil {
		t.Fatal(err)
	}
	if err := db.CheckWrite(ctx, at.Add(time.Minute)); err != nil {
		t.Fatalf("CheckWrite after the lock ended: %v", err)
	}

	var n int
	if err := db.sql.QueryRowContext(ctx, "SELECT count FROM rate WHERE key = ? AND window_start = ?",
		healthKey, at.Truncate(time.Hour).UnixMilli()).Scan(&n); err != nil || n != 2 {
		t.Errorf("health counter %d (%v), want 2 checks written in the hour", n, err)
	}
	t.Run("the pool's connections keep their busy timeout", func(t *testing.T) {
		db.sql.SetMaxIdleConns(1)
		db.sql.SetMaxOpenConns(2) // the checkpointer's and one other: CheckWrite's
		defer db.sql.SetMaxOpenConns(0)
		if err := db.CheckWrite(ctx, at); err != nil {
			t.Fatal(err)
		}
		var ms int64
		if err := db.sql.QueryRowContext(ctx, "PRAGMA busy_timeout").Scan(&ms); err != nil || ms != busyTimeout.Milliseconds() {
			t.Errorf("busy_timeout %d ms (%v), want %d", ms, err, busyTimeout.Milliseconds())
		}
	})
}

func TestOutboxWaiting(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	t0 := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	enqueue := func(created time.Time) int64 {
		it := &OutboxItem{Kind: MailConfirmation, To: []string{"a@example.com"},
			MessageID: fmt.Sprintf("waiting.%d@example.com", created.UnixMilli()), CreatedAt: created}
		if err := db.Tx(ctx, func(tx *Tx) error { return tx.Enqueue(it) }); err != nil {
			t.Fatal(err)
		}
		return it.ID
	}
	set := func(id int64, assignments string, args ...any) {
		if _, err := db.sql.ExecContext(ctx, "UPDATE outbox SET "+assignments+" WHERE id = ?", append(args, id)...); err != nil {
			t.Fatal(err)
		}
	}
	check := func(name string, now time.Time, wantN int, wantOldest time.Time) {
		t.Helper()
		n, oldest, err := db.OutboxWaiting(ctx, now)
		if err != nil || n != wantN || !oldest.Equal(wantOldest) {
			t.Errorf("%s: OutboxWaiting = %d, %v, %v; want %d, %v", name, n, oldest, err, wantN, wantOldest)
		}
	}

	check("empty outbox", t0, 0, time.Time{})
	first := enqueue(t0)
	second := enqueue(t0.Add(time.Minute))
	check("both due", t0.Add(20*time.Minute), 2, t0)
	check("the second not queued yet at now", t0.Add(30*time.Second), 1, t0)

	set(first, "next_attempt_at = ?", t0.Add(time.Hour).UnixMilli()) // never tried, due later
	check("a mail never tried and not due yet is not waiting", t0.Add(20*time.Minute), 1, t0.Add(time.Minute))

	set(first, "attempts = 1, last_error = 'no connection'") // tried, waits for its next try
	check("a mail waiting for its retry is waiting since it was queued", t0.Add(20*time.Minute), 2, t0)

	set(first, "status = 'sent'")
	set(second, "status = 'failed'")
	check("sent and failed mail is not waiting", t0.Add(20*time.Minute), 0, time.Time{})

	if _, _, err := db.OutboxWaiting(canceled(), t0); !errors.Is(err, context.Canceled) {
		t.Errorf("OutboxWaiting with a canceled context = %v, want context.Canceled", err)
	}
}

func canceled() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}
