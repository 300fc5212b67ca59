package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"time"
)

// healthKey counts CheckWrite's writes in the rate table, per hour (no
// other key is without a colon); ForgetRates deletes old hours as it does
// every counter's.
const healthKey = "healthz"

// defaultCheckWait bounds CheckWrite when ctx has no deadline.
const defaultCheckWait = 2 * time.Second

// CheckWrite proves that the database can be written now: it commits one
// small write (a counter of checks in the rate table, in at's hour), which
// takes SQLite's write lock and appends to the log as every write does. A
// database another process keeps locked, a full disk or a read-only file
// makes it fail. It waits for other writers at most until ctx's deadline
// (defaultCheckWait without one): SQLite's own busy wait, which ctx cannot
// interrupt, is cut to that time on the connection it uses.
func (db *DB) CheckWrite(ctx context.Context, at time.Time) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, defaultCheckWait)
		defer cancel()
	}
	release, err := db.write(ctx)
	if err != nil {
		return fmt.Errorf("write check: %w", err)
	}
	defer release()
	conn, err := db.sql.Conn(ctx)
	if err != nil {
		return fmt.Errorf("write check: %w", err)
	}
	defer conn.Close()
	deadline, _ := ctx.Deadline()
	wait := time.Until(deadline)
	if wait <= 0 {
		return fmt.Errorf("write check: %w", context.DeadlineExceeded)
	}
	if err := setBusyTimeout(ctx, conn, wait); err != nil {
		return fmt.Errorf("write check: %w", err)
	}
	defer restoreBusyTimeout(conn)
	_, err = conn.ExecContext(ctx, `INSERT INTO rate (key, window_start, count) VALUES (?, ?, 1)
		ON CONFLICT (key, window_start) DO UPDATE SET count = count + 1`,
		healthKey, at.Truncate(time.Hour).UnixMilli())
	if err != nil {
		return fmt.Errorf("write check: %w", err)
	}
	db.ckpt.committed()
	return nil
}

// setBusyTimeout sets how long SQLite waits for another writer on conn.
func setBusyTimeout(ctx context.Context, conn *sql.Conn, wait time.Duration) error {
	_, err := conn.ExecContext(ctx, fmt.Sprintf("PRAGMA busy_timeout = %d", max(wait.Milliseconds(), 1)))
	return err
}

// restoreBusyTimeout gives conn back the pool's busy timeout; a connection
// where that fails is closed rather than returned to the pool with a short
// one.
func restoreBusyTimeout(conn *sql.Conn) {
	if setBusyTimeout(context.Background(), conn, busyTimeout) != nil {
		conn.Raw(func(any) error { return driver.ErrBadConn })
	}
}

// OutboxWaiting reports the mail waiting to be sent at now: queued mail
// that is due (next_attempt_at at or before now, whether or not a sender
// is working on it) or that was tried and waits for its next try; oldest
// is when the one waiting longest was queued (the zero time when none
// waits). Mail is queued due at once, so it has waited since it was
// queued.
func (db *DB) OutboxWaiting(ctx context.Context, now time.Time) (n int, oldest time.Time, err error) {
	var first sql.NullInt64
	err = db.sql.QueryRowContext(ctx, `SELECT COUNT(*), MIN(created_at) FROM outbox
		WHERE status = 'queued' AND (next_attempt_at <= ? OR attempts > 0)`, now.UnixMilli()).Scan(&n, &first)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("read outbox: %w", err)
	}
	return n, fromMS(first), nil
}
