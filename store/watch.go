package store

import (
	"context"
	"fmt"
	"time"
)

// DefaultWatchEvery is how often WatchChanges looks when every is 0: mail
// queued by another process (`postdesk case reply` while the daemon runs)
// is seen within this time.
const DefaultWatchEvery = 250 * time.Millisecond

// WatchChanges calls changed once it has started watching (what changed
// before is unknown to it), then each time it finds that another
// connection has committed to the database since it last looked, looking
// every every (0 = DefaultWatchEvery), until ctx ends; then it returns
// nil. Another
// connection is another process (the command line) or another connection
// of this process's pool: SQLite's PRAGMA data_version changes for commits
// of every connection but the one asking, which WatchChanges holds for
// itself while it runs. Commits that come close together may be reported
// once. changed runs on WatchChanges' goroutine and should return quickly.
// It returns an error when the database cannot be read.
func (db *DB) WatchChanges(ctx context.Context, every time.Duration, changed func()) error {
	if every <= 0 {
		every = DefaultWatchEvery
	}
	conn, err := db.sql.Conn(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("watch the database: %w", err)
	}
	defer conn.Close()
	version := func() (int64, error) {
		var v int64
		if err := conn.QueryRowContext(ctx, "PRAGMA data_version").Scan(&v); err != nil {
			return 0, fmt.Errorf("watch the database: %w", err)
		}
		return v, nil
	}
	last, err := version()
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	changed()
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		v, err := version()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		if v != last {
			last = v
			changed()
		}
	}
}
