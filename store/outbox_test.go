package store

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"
)

// queue enqueues n confirmations due at t0 and returns their ids.
func queue(t *testing.T, db *DB, t0 time.Time, n int) []int64 {
	t.Helper()
	var ids []int64
	err := db.Tx(context.Background(), func(tx *Tx) error {
		for range n {
			it := &OutboxItem{Kind: MailConfirmation, To: []string{"a@x"},
				MessageID: fmt.Sprintf("pd.%d.%d@y", t0.UnixMilli(), len(ids)), CreatedAt: t0}
			if err := tx.Enqueue(it); err != nil {
				return err
			}
			ids = append(ids, it.ID)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func claimIDs(t *testing.T, db *DB, node string, now time.Time) []int64 {
	t.Helper()
	items, err := db.ClaimOutbox(context.Background(), node, now, time.Minute, 100)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, it := range items {
		if it.ClaimedBy != node || !it.ClaimedUntil.Equal(now.Add(time.Minute)) {
			t.Errorf("row %d claimed by %q until %v, want %q until %v", it.ID, it.ClaimedBy, it.ClaimedUntil, node, now.Add(time.Minute))
		}
		ids = append(ids, it.ID)
	}
	return ids
}

func TestClaims(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)

	t.Run("another node's claim is left alone until its lease lapses", func(t *testing.T) {
		db, _ := openTest(t)
		ids := queue(t, db, now, 3)
		if got := claimIDs(t, db, "serve@a", now); !slices.Equal(got, ids) {
			t.Fatalf("a claimed %v, want %v", got, ids)
		}
		if got := claimIDs(t, db, "serve@b", now.Add(time.Minute-time.Millisecond)); len(got) != 0 {
			t.Errorf("b claimed %v inside a's lease", got)
		}
		if next, ok, _ := db.NextDue(ctx); !ok || !next.Equal(now.Add(time.Minute)) {
			t.Errorf("NextDue = %v, %v; want the end of the lease %v", next, ok, now.Add(time.Minute))
		}
		if got := claimIDs(t, db, "serve@b", now.Add(time.Minute)); !slices.Equal(got, ids) {
			t.Errorf("b claimed %v when a's lease lapsed, want %v", got, ids)
		}
	})

	t.Run("a renewed claim is kept past the first lease", func(t *testing.T) {
		db, _ := openTest(t)
		ids := queue(t, db, now, 2)
		claimIDs(t, db, "serve@a", now)
		if err := db.MarkSent(ctx, ids[0], []byte("x"), now); err != nil {
			t.Fatal(err)
		}
		n, err := db.RenewClaims(ctx, "serve@a", ids, now.Add(90*time.Second))
		if err != nil || n != 1 {
			t.Errorf("RenewClaims = %d, %v; want the one row still queued", n, err)
		}
		if n, _ := db.RenewClaims(ctx, "serve@b", ids, now.Add(time.Hour)); n != 0 {
			t.Errorf("b renewed %d of a's claims", n)
		}
		if got := claimIDs(t, db, "serve@b", now.Add(time.Minute)); len(got) != 0 {
			t.Errorf("b claimed %v while a's renewed claim holds", got)
		}
		if got := claimIDs(t, db, "serve@b", now.Add(90*time.Second)); !slices.Equal(got, ids[1:]) {
			t.Errorf("b claimed %v after the renewed lease, want %v", got, ids[1:])
		}
	})

	t.Run("a node takes back its own claims at once", func(t *testing.T) {
		db, _ := openTest(t)
		ids := queue(t, db, now, 3)
		claimIDs(t, db, "serve@a", now)
		other := queue(t, db, now.Add(time.Millisecond), 1)
		claimIDs(t, db, "serve@b", now.Add(time.Millisecond))
		n, err := db.ReleaseClaims(ctx, "serve@a")
		if err != nil || n != 3 {
			t.Fatalf("ReleaseClaims = %d, %v; want 3", n, err)
		}
		if got := claimIDs(t, db, "serve@a", now.Add(time.Millisecond)); !slices.Equal(got, ids) {
			t.Errorf("a claimed %v after taking back, want %v (not b's %v)", got, ids, other)
		}
		if err := db.ReleaseRows(ctx, "serve@a", ids[1:]); err != nil {
			t.Fatal(err)
		}
		if r, _ := db.OutboxItem(ctx, ids[0]); r.ClaimedBy != "serve@a" {
			t.Errorf("ReleaseRows released row %d it was not given", ids[0])
		}
		if r, _ := db.OutboxItem(ctx, ids[1]); r.ClaimedBy != "" || !r.ClaimedUntil.IsZero() || !r.NextAttemptAt.Equal(now) {
			t.Errorf("released row: claimed by %q until %v, due %v", r.ClaimedBy, r.ClaimedUntil, r.NextAttemptAt)
		}
	})

	t.Run("sent, retried and failed rows end their claim", func(t *testing.T) {
		db, _ := openTest(t)
		ids := queue(t, db, now, 3)
		claimIDs(t, db, "serve@a", now)
		if err := db.MarkSent(ctx, ids[0], []byte("bytes"), now); err != nil {
			t.Fatal(err)
		}
		if err := db.MarkRetry(ctx, ids[1], now.Add(time.Minute), "451"); err != nil {
			t.Fatal(err)
		}
		if err := db.MarkFailed(ctx, ids[2], now, "550", nil); err != nil {
			t.Fatal(err)
		}
		for _, id := range ids {
			if r, _ := db.OutboxItem(ctx, id); r.ClaimedBy != "" || !r.ClaimedUntil.IsZero() {
				t.Errorf("row %d (%s) still claimed by %q", id, r.Status, r.ClaimedBy)
			}
		}
		r, _ := db.OutboxItem(ctx, ids[0])
		if r.Status != OutboxSent || string(r.Raw) != "bytes" || r.Attempts != 1 || !r.SentAt.Equal(now) {
			t.Errorf("sent row: %s, %q, %d attempts, at %v", r.Status, r.Raw, r.Attempts, r.SentAt)
		}
		if err := db.MarkSent(ctx, ids[2], []byte("late"), now); err != nil {
			t.Fatal(err)
		}
		if r, _ := db.OutboxItem(ctx, ids[2]); r.Status != OutboxFailed {
			t.Errorf("MarkSent revived a failed row: %s", r.Status)
		}
	})
}

func TestMakeAllDue(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	now := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	ids := queue(t, db, now, 4)
	for i, id := range ids[:3] {
		if err := db.MarkRetry(ctx, id, now.Add(time.Duration(i+1)*time.Hour), "451"); err != nil {
			t.Fatal(err)
		}
	}
	// The last is claimed by a node at work (due, so not moved) and the
	// third is sent: neither may change.
	claimIDs(t, db, "serve@b", now)
	if err := db.MarkSent(ctx, ids[2], []byte("x"), now); err != nil {
		t.Fatal(err)
	}
	later := now.Add(30 * time.Second)

	n, err := db.MakeAllDue(ctx, later)
	if err != nil || n != 2 {
		t.Fatalf("MakeAllDue = %d, %v; want the 2 queued rows waiting to be retried", n, err)
	}
	for _, id := range ids[:2] {
		if r, _ := db.OutboxItem(ctx, id); !r.NextAttemptAt.Equal(later) || r.Attempts != 1 {
			t.Errorf("row %d due %v after %d attempts, want due %v", id, r.NextAttemptAt, r.Attempts, later)
		}
	}
	if r, _ := db.OutboxItem(ctx, ids[2]); r.Status != OutboxSent || !r.NextAttemptAt.Equal(now.Add(3*time.Hour)) {
		t.Errorf("sent row changed: %s due %v", r.Status, r.NextAttemptAt)
	}
	if r, _ := db.OutboxItem(ctx, ids[3]); r.ClaimedBy != "serve@b" || !r.ClaimedUntil.Equal(now.Add(time.Minute)) {
		t.Errorf("claimed row: claimed by %q until %v, want b's claim kept", r.ClaimedBy, r.ClaimedUntil)
	}
	if got := claimIDs(t, db, "flush@a", later); !slices.Equal(got, ids[:2]) {
		t.Errorf("a flush after MakeAllDue claims %v, want %v", got, ids[:2])
	}
}
