package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// TestWritesOfOneProcessTakeTurns runs writers from many goroutines at once
// (as intake and the outbox sender do): every one commits, none meets
// SQLite's busy error, and a writer waiting for its turn gives up when its
// context ends.
func TestWritesOfOneProcessTakeTurns(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	const writers, each = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				errs <- db.Tx(ctx, func(tx *Tx) error {
					_, _, err := tx.InsertRaw(&Raw{Bytes: fmt.Appendf(nil, "writer %d mail %d", w, i), ReceivedAt: time.Now()})
					return err
				})
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent write failed: %v", err)
		}
	}
	var n int
	if err := db.sql.QueryRowContext(ctx, "SELECT count(*) FROM raw_messages").Scan(&n); err != nil || n != writers*each {
		t.Fatalf("%d raw messages stored (%v), want %d", n, err, writers*each)
	}

	t.Run("a waiting writer stops with its context", func(t *testing.T) {
		holding, release := make(chan struct{}), make(chan struct{})
		done := make(chan error, 1)
		go func() {
			done <- db.Tx(ctx, func(*Tx) error { close(holding); <-release; return nil })
		}()
		<-holding
		waitCtx, cancel := context.WithCancel(ctx)
		cancel()
		err := db.Tx(waitCtx, func(*Tx) error { return errors.New("ran while another write held the database") })
		if !errors.Is(err, context.Canceled) {
			t.Errorf("waiting write returned %v, want context.Canceled", err)
		}
		close(release)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
	if !Temporary(ErrBusy) {
		t.Error("ErrBusy is not temporary")
	}
}
