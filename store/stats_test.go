package store

import (
	"context"
	"fmt"
	"testing"
	"time"
)

func TestOutboxStats(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	t0 := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	enqueue := func(created time.Time) int64 {
		t.Helper()
		it := &OutboxItem{Kind: MailConfirmation, MessageID: fmt.Sprintf("stats.%d@example.com", created.UnixMilli()),
			CreatedAt: created}
		if err := db.Tx(ctx, func(tx *Tx) error { return tx.Enqueue(it) }); err != nil {
			t.Fatal(err)
		}
		return it.ID
	}
	check := func(t *testing.T, wantQueued int, wantOldest time.Time) {
		t.Helper()
		queued, oldest, err := db.OutboxStats(ctx)
		if err != nil || queued != wantQueued || !oldest.Equal(wantOldest) {
			t.Errorf("OutboxStats = %d, %v, %v; want %d, %v, nil", queued, oldest, err, wantQueued, wantOldest)
		}
	}

	t.Run("an empty outbox has nothing queued and no oldest", func(t *testing.T) {
		check(t, 0, time.Time{})
	})
	sent := enqueue(t0.Add(-3 * time.Hour))
	failed := enqueue(t0.Add(-2 * time.Hour))
	retried := enqueue(t0.Add(-time.Hour))
	enqueue(t0)
	if err := db.MarkSent(ctx, sent, []byte("x"), t0); err != nil {
		t.Fatal(err)
	}
	if err := db.MarkFailed(ctx, failed, t0, "550", nil); err != nil {
		t.Fatal(err)
	}
	if err := db.MarkRetry(ctx, retried, t0.Add(time.Hour), "451"); err != nil {
		t.Fatal(err)
	}
	t.Run("sent and failed mail is not counted; mail waiting for a retry is", func(t *testing.T) {
		check(t, 2, t0.Add(-time.Hour))
	})
	t.Run("a closed database is an error", func(t *testing.T) {
		db.Close()
		if _, _, err := db.OutboxStats(ctx); err == nil {
			t.Error("OutboxStats on a closed database = nil error")
		}
	})
}
