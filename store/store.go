// Package store keeps everything postdesk knows in one SQLite file: cases,
// their participants, messages, attachments and events, every raw message
// verbatim, and the outbox of mail to send. It owns the schema and its
// migrations and offers named queries inside transactions; it decides nothing.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strconv"
	"sync"
	"time"
)

// ErrNewerSchema means the database was written by a newer postdesk.
var ErrNewerSchema = errors.New("database schema is newer than this binary")

// ErrNotFound is returned when a case, message or outbox row does not exist.
var ErrNotFound = errors.New("not found")

// stmtCacheSize is how many prepared statements each connection keeps for
// reuse, so that a query run again skips SQLite's parser: more than the
// distinct queries of intake and the outbox (about 40), so none is evicted.
const stmtCacheSize = 64

// pageSize is the page size of new databases; an existing one keeps its
// own. Larger pages write a large mail in fewer frames, but every small
// mail touches some 45 pages of tables and indexes whatever their size:
// over the realistic mix, 8 KiB and 16 KiB pages were no faster than 4 KiB
// (attachment mails -14 % and -24 %, plain ones +19 % and +62 %), 2 KiB
// was slower.
const pageSize = 4096

// busyTimeout is how long a write waits for the one before it: for
// another process (SQLite's busy timeout) or another goroutine (DB.write).
const busyTimeout = 10 * time.Second

// ErrBusy means a write waited busyTimeout for another write of this
// process to end. Temporary reports it as temporary.
var ErrBusy = errors.New("database busy: another write did not end in time")

// DB is an open postdesk database.
type DB struct {
	sql       *sql.DB
	ckpt      *checkpointer
	writer    chan struct{} // the process's one write slot; see write
	closeOnce sync.Once
	closeErr  error
}

// Open opens (creating if needed) the SQLite database at path and brings its
// schema up to date. WAL journaling and foreign keys are on, transactions
// begin IMMEDIATE so writers queue instead of failing mid-transaction. A
// goroutine checkpoints the write-ahead log in the background until Close.
// A new database is created with mode 0600, and so are its -wal and -shm
// files (see createPrivate); an existing one keeps its mode.
func Open(ctx context.Context, path string) (*DB, error) {
	return open(ctx, path, walOptions{})
}

// open is Open with the checkpointer's options (tests).
func open(ctx context.Context, path string, o walOptions) (*DB, error) {
	o = o.withDefaults()
	if err := createPrivate(path); err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	q := url.Values{}
	q.Set("_foreign_keys", "on")
	q.Set("_synchronous", "NORMAL")
	q.Set("_busy_timeout", strconv.Itoa(int(busyTimeout/time.Millisecond)))
	q.Set("_txlock", "immediate")
	q.Set("_stmt_cache_size", strconv.Itoa(stmtCacheSize))
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
	db := &DB{sql: sql.OpenDB(newConnector(dsn, o.restart)), writer: make(chan struct{}, 1)}
	err := db.migrate(ctx)
	if err == nil {
		// The checkpointer's connection is opened on the migrated file: one
		// opened before, on the new empty file, was seen to wait out its
		// busy timeout at its first TRUNCATE checkpoint (in Close).
		db.ckpt, err = startCheckpointer(ctx, db.sql, path, o)
	}
	if err != nil {
		db.sql.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	return db, nil
}

// createPrivate creates an empty database file at path with mode 0600 (the
// umask can only take bits away) unless a file is there (DESIGN §14).
// SQLite creates the -wal and -shm files with the mode of the database file
// (os_unix.c: findCreateFileMode for the WAL, unixOpenSharedMemory for the
// SHM), so those are 0600 too; left to itself it creates the database 0644.
// SQLite takes an empty file for an empty database.
func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return f.Close()
}

// Close stops the background checkpointer, checkpoints what the log still
// holds and closes the database. Closing again does nothing.
func (db *DB) Close() error {
	db.closeOnce.Do(func() {
		err := db.ckpt.close()
		if err != nil {
			err = fmt.Errorf("last checkpoint: %w", err)
		}
		db.closeErr = errors.Join(err, db.sql.Close())
	})
	return db.closeErr
}

// Ping checks that the database answers a query.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	return db.sql.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

// SchemaVersion reports how many migrations the database has.
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := db.sql.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v)
	return v, err
}

func (db *DB) migrate(ctx context.Context) error {
	v, err := db.SchemaVersion(ctx)
	if err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if v > len(migrations) {
		return fmt.Errorf("%w: database has version %d, binary knows %d", ErrNewerSchema, v, len(migrations))
	}
	for i := v; i < len(migrations); i++ {
		err := db.Tx(ctx, func(tx *Tx) error {
			if _, err := tx.tx.ExecContext(ctx, migrations[i]); err != nil {
				return err
			}
			_, err := tx.tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", i+1))
			return err
		})
		if err != nil {
			return fmt.Errorf("migrate to version %d: %w", i+1, err)
		}
	}
	return nil
}

// Tx is one write transaction. Its methods are the named queries of the
// desk and the outbox worker.
type Tx struct {
	tx  *sql.Tx
	ctx context.Context
}

// Tx runs fn in one IMMEDIATE transaction, committing when fn returns nil
// and rolling back otherwise. fn must not write through db itself (another
// Tx, MarkSent…): SQLite lets one writer in at a time, and the checkpointer
// may be waiting for this transaction to end before it lets the next begin.
func (db *DB) Tx(ctx context.Context, fn func(*Tx) error) error {
	return db.tx(ctx, fn, true)
}

// Rehearse runs fn in a transaction that is always rolled back: what fn
// would have done is decided and then forgotten (ingest -dry-run).
func (db *DB) Rehearse(ctx context.Context, fn func(*Tx) error) error {
	return db.tx(ctx, fn, false)
}

func (db *DB) tx(ctx context.Context, fn func(*Tx) error, commit bool) (err error) {
	release, err := db.write(ctx)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	defer release()
	sqltx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	defer func() {
		if p := recover(); p != nil {
			sqltx.Rollback()
			panic(p)
		}
		if err != nil || !commit {
			sqltx.Rollback()
			return
		}
		if cerr := sqltx.Commit(); cerr != nil {
			err = fmt.Errorf("commit: %w", cerr)
			return
		}
		db.ckpt.committed()
	}()
	return fn(&Tx{tx: sqltx, ctx: ctx})
}

// write takes the process's one write slot for a transaction or a single
// write. SQLite lets one writer in at a time; a writer that finds the
// database locked sleeps in SQLite's busy handler (1 ms, then 2, 5, 10 ms
// and more) even when the other write ends at once, and intake and the
// outbox sender write all the time. Waiting here instead hands the
// database over as soon as the write before ends. It also holds off the
// checkpointer (checkpointer.writing). Writes of other processes (the CLI
// while serve runs) still meet SQLite's busy timeout.
func (db *DB) write(ctx context.Context) (release func(), err error) {
	done := db.ckpt.writing()
	select {
	case db.writer <- struct{}{}:
	default:
		t := time.NewTimer(busyTimeout)
		defer t.Stop()
		select {
		case db.writer <- struct{}{}:
		case <-ctx.Done():
			done()
			return nil, ctx.Err()
		case <-t.C:
			done()
			return nil, ErrBusy
		}
	}
	return func() { <-db.writer; done() }, nil
}

// exec runs one write outside a transaction (it commits by itself) and
// tells the checkpointer.
func (db *DB) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	release, err := db.write(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	res, err := db.sql.ExecContext(ctx, query, args...)
	if err == nil {
		db.ckpt.committed()
	}
	return res, err
}

// The helpers below convert between Go values and the column encodings.

func ms(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMilli(), Valid: true}
}

func fromMS(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.UnixMilli(v.Int64).UTC()
}
