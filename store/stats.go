package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// OutboxStats reports how many mails are queued (waiting to be sent, retried
// or not) and when the oldest of them was enqueued; the zero time when none
// is queued. It is read at every metrics scrape.
func (db *DB) OutboxStats(ctx context.Context) (queued int, oldestQueued time.Time, err error) {
	var oldest sql.NullInt64
	err = db.sql.QueryRowContext(ctx, "SELECT COUNT(*), MIN(created_at) FROM outbox WHERE status = 'queued'").
		Scan(&queued, &oldest)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("read outbox stats: %w", err)
	}
	return queued, fromMS(oldest), nil
}
