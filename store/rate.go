package store

import (
	"context"
	"fmt"
	"time"
)

// Bump counts one more event for key in the fixed window that starts at
// window and returns the count including this one.
func (tx *Tx) Bump(key string, window time.Time) (int, error) {
	var n int
	err := tx.tx.QueryRowContext(tx.ctx, `INSERT INTO rate (key, window_start, count) VALUES (?, ?, 1)
		ON CONFLICT (key, window_start) DO UPDATE SET count = count + 1 RETURNING count`,
		key, window.UnixMilli()).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count %s: %w", key, err)
	}
	return n, nil
}

// Count reads the count of key in the window that starts at window,
// without counting: a caller over its limit can refuse without writing.
func (tx *Tx) Count(key string, window time.Time) (int, error) {
	var n int
	err := tx.tx.QueryRowContext(tx.ctx, "SELECT COALESCE(MAX(count), 0) FROM rate WHERE key = ? AND window_start = ?",
		key, window.UnixMilli()).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("read count %s: %w", key, err)
	}
	return n, nil
}

// ForgetRates deletes counters of windows that started before cutoff.
func (db *DB) ForgetRates(ctx context.Context, cutoff time.Time) error {
	if _, err := db.exec(ctx, "DELETE FROM rate WHERE window_start < ?", cutoff.UnixMilli()); err != nil {
		return fmt.Errorf("forget rate counters: %w", err)
	}
	return nil
}

// MarkBounced records on the sent mail with this Message-ID what a delivery
// status notification reported; it reports whether there was such a mail.
func (tx *Tx) MarkBounced(messageID, report string) (bool, error) {
	res, err := tx.tx.ExecContext(tx.ctx, "UPDATE outbox SET bounce = ? WHERE message_id = ?", report, messageID)
	if err != nil {
		return false, fmt.Errorf("record bounce of %s: %w", messageID, err)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}
