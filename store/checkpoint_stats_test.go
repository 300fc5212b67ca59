package store

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

// TestCheckpointStatsAfterPanic checks what Checkpoints tells of a round
// that panicked and of the round after it that succeeded: the failure, the
// panic, the log's length and the time of the last success, which /metrics
// and /healthz read.
func TestCheckpointStatsAfterPanic(t *testing.T) {
	ctx := context.Background()
	const limit = 64 << 10
	boom := true
	db, err := open(ctx, filepath.Join(t.TempDir(), "t.db"), walOptions{limit: limit, restart: 1 << 30, manual: true,
		afterPassive: func() {
			if boom {
				panic("injected")
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	insert := func(from, to int) {
		for i := from; i < to; i++ {
			raw := make([]byte, 32<<10)
			copy(raw, fmt.Sprintf("raw %d", i))
			err := db.Tx(ctx, func(tx *Tx) error {
				_, _, err := tx.InsertRaw(&Raw{Bytes: raw, ReceivedAt: time.Now()})
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	insert(0, 4)
	if ev := db.ckpt.round(ctx); ev.err == nil {
		t.Fatalf("round = %+v; want the injected panic as an error", ev)
	}
	s := db.Checkpoints()
	if s.Failures != 1 || s.Panics != 1 || s.LastError == nil || s.LastFailure.IsZero() {
		t.Errorf("after a panicked round: Checkpoints() = %+v; want 1 failure, 1 panic, its error and time", s)
	}
	if !s.LastSuccess.IsZero() || s.WALBytes < limit {
		t.Errorf("after a panicked round: LastSuccess %v, WALBytes %d; want zero, at least %d", s.LastSuccess, s.WALBytes, limit)
	}

	boom = false
	insert(4, 8) // the panicked round had checkpointed before it panicked
	if ev := db.ckpt.round(ctx); ev.err != nil || !ev.checkpoint {
		t.Fatalf("second round = %+v; want a checkpoint", ev)
	}
	if s := db.Checkpoints(); s.Runs != 1 || s.Panics != 1 || s.LastSuccess.Before(s.LastFailure) {
		t.Errorf("after a good round: Checkpoints() = %+v; want 1 run, the panic still counted, success after failure", s)
	}
	if err := db.Close(); err == nil {
		t.Error("Close = nil; want the checkpointer's panic reported")
	}
}
