package store

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mattn/go-sqlite3"
)

// Checkpoints copy what the write-ahead log holds back into the database
// file. SQLite runs them by itself inside the commit of whichever
// transaction takes the log past 1000 pages, so that one mail's intake
// waited for a few megabytes of reads, writes and two fsyncs. Here the
// pool's connections never checkpoint when they commit; one goroutine owned
// by the DB does, on its own connection, while writers go on: a PASSIVE
// checkpoint takes no lock that a writer needs.
//
// The log starts over (from the start of the -wal file) only when a writer
// begins while all of it is in the database file. With writers always
// beside it, a passive checkpoint never gets there and the log would grow
// without end, so once the log is long the checkpointer holds new
// transactions back for the short checkpoint of what was written during
// its passive ones. (SQLite's RESTART mode would wait for the writer lock
// through the busy handler, which polls it with sleeps, while transactions
// follow each other with hardly a gap.)

// walCheckpointBytes is how much of the log may be missing from the
// database file before the checkpointer copies it back: about SQLite's own
// 1000 pages. walRestartBytes is how long the log may grow before the
// checkpointer makes it start over; a log that starts over is cut to that
// length too (PRAGMA journal_size_limit), so that one large mail does not
// leave a large -wal file behind. Cutting it shorter would have each round
// of the log give back and allocate its disk blocks again, which costs.
const (
	walCheckpointBytes = 4 << 20
	walRestartBytes    = 4 * walCheckpointBytes
)

// maxPassivePasses bounds the passive checkpoints of one round.
const maxPassivePasses = 4

// walOptions configure the checkpointer; the zero value is the daemon's.
type walOptions struct {
	limit, restart int64 // 0: walCheckpointBytes, walRestartBytes

	// For tests: manual starts no goroutine (the test calls round),
	// observe sees each round, afterPassive runs between a round's
	// passive checkpoint and its wait for writers.
	manual       bool
	observe      func(walEvent)
	afterPassive func()
}

func (o walOptions) withDefaults() walOptions {
	o.limit = cmp.Or(o.limit, walCheckpointBytes)
	o.restart = cmp.Or(o.restart, walRestartBytes)
	return o
}

// connector opens the pool's connections through go-sqlite3, turning off
// the checkpoint at commit on each one (a per-connection setting).
type connector struct {
	dsn string
	drv *sqlite3.SQLiteDriver
}

func newConnector(dsn string, keepWAL int64) *connector {
	// The page size only takes on a new, empty file, and only before it is
	// switched to WAL: so this comes before journal_mode, rather than in
	// the DSN, which go-sqlite3 applies before the hook.
	pragmas := fmt.Sprintf("PRAGMA page_size = %d; PRAGMA journal_mode = WAL; "+
		"PRAGMA wal_autocheckpoint = 0; PRAGMA journal_size_limit = %d", pageSize, keepWAL)
	return &connector{dsn: dsn, drv: &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
		_, err := c.Exec(pragmas, nil)
		return err
	}}}
}

// Connect opens one connection of the pool.
func (c *connector) Connect(context.Context) (driver.Conn, error) { return c.drv.Open(c.dsn) }

// Driver returns the go-sqlite3 driver the connections come from.
func (c *connector) Driver() driver.Driver { return c.drv }

var _ driver.Connector = (*connector)(nil)

// CheckpointStats tells what the background checkpointer did since Open.
type CheckpointStats struct {
	// Runs counts the rounds that checkpointed (one or more passive
	// checkpoints); Restarts those of them that then held writers back so
	// that the log could start over.
	Runs, Restarts int64
	// Failures counts checkpoints that ended in an error or a panic;
	// LastError is the latest of them, at LastFailure. Panics counts those
	// that were a recovered panic.
	Failures    int64
	LastError   error
	LastFailure time.Time
	Panics      int64
	// LastSuccess is when a round last checkpointed without an error; the
	// zero time before the first.
	LastSuccess time.Time
	// WALBytes is how long the log was when the latest round began: what
	// grows when checkpoints keep failing.
	WALBytes int64
}

// Checkpoints tells what the background checkpointer did since Open.
func (db *DB) Checkpoints() CheckpointStats {
	db.ckpt.mu.Lock()
	defer db.ckpt.mu.Unlock()
	return db.ckpt.stats
}

// walEvent is what one round of the checkpointer saw and did.
type walEvent struct {
	commits    int64 // commits counted when the round began
	logBytes   int64 // bytes in the log when the round began
	pending    int64 // and of those, bytes not in the database file
	checkpoint bool  // whether it checkpointed
	restart    bool  // and held writers back for the log to start over
	log, done  int64 // frames in the log and checkpointed, when it did
	err        error
}

// checkpointer is the goroutine that checkpoints when limit bytes of the
// log are not in the database file: writers signal kick after each commit,
// and it reads the counts of the log in the -shm file.
type checkpointer struct {
	walOptions
	conn    *sql.Conn
	walPath string
	shmPath string
	shm     *os.File      // opened by the goroutine
	kick    chan struct{} // buffered 1: commits coalesce while it works
	cancel  context.CancelFunc
	done    chan struct{}

	// gate is held shared by each write transaction of the process, and
	// by the checkpointer alone when it holds writers back.
	gate    sync.RWMutex
	commits atomic.Int64

	mu    sync.Mutex
	stats CheckpointStats
	panic error
}

// startCheckpointer takes a connection of db's pool for the checkpointer
// and starts it.
func startCheckpointer(ctx context.Context, db *sql.DB, path string, o walOptions) (*checkpointer, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("connection for checkpoints: %w", err)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	c := &checkpointer{walOptions: o, conn: conn, walPath: path + "-wal", shmPath: path + "-shm",
		kick: make(chan struct{}, 1), cancel: cancel, done: make(chan struct{})}
	if o.manual {
		close(c.done)
	} else {
		go c.run(runCtx)
	}
	return c, nil
}

// writing is called when a write transaction begins, and the function it
// returns when it ended; it waits while the checkpointer holds writers
// back. Before the checkpointer starts (migrations), it does nothing.
func (c *checkpointer) writing() (done func()) {
	if c == nil {
		return func() {}
	}
	c.gate.RLock()
	return c.gate.RUnlock
}

// committed tells the checkpointer that a write transaction committed. It
// never blocks.
func (c *checkpointer) committed() {
	if c == nil {
		return
	}
	c.commits.Add(1)
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

func (c *checkpointer) run(ctx context.Context) {
	defer close(c.done)
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.kick:
		}
		c.round(ctx)
	}
}

// round checkpoints once if limit bytes of the log are not in the database
// file, turning a panic into an error so that the goroutine and the daemon
// carry on.
func (c *checkpointer) round(ctx context.Context) (ev walEvent) {
	ev.commits = c.commits.Load()
	defer func() {
		if p := recover(); p != nil {
			ev.err = fmt.Errorf("checkpoint panicked: %v", p)
			c.mu.Lock()
			c.panic = ev.err
			c.stats.Panics++
			c.mu.Unlock()
		}
		c.record(ev)
		if c.observe != nil {
			c.observe(ev)
		}
	}()
	var err error
	if ev.logBytes, ev.pending, err = c.walSize(); err != nil || ev.pending < c.limit {
		ev.err = err
		return ev
	}
	ev.checkpoint = true
	// Writers go on meanwhile: checkpoint again what they wrote, while it
	// is still a good part of the limit, so that little is left for the
	// checkpoint that holds them back.
	logBytes, pending := ev.logBytes, ev.pending
	for pass := 0; pass < maxPassivePasses && pending >= c.limit/8; pass++ {
		if ev.log, ev.done, ev.err = c.checkpoint(ctx); ev.err != nil {
			return ev
		}
		if logBytes, pending, ev.err = c.walSize(); ev.err != nil {
			return ev
		}
	}
	if c.afterPassive != nil {
		c.afterPassive()
	}
	if logBytes < c.restart {
		return ev
	}
	c.gate.Lock()
	defer c.gate.Unlock()
	ev.restart = true
	ev.log, ev.done, ev.err = c.checkpoint(ctx)
	return ev
}

// checkpoint runs one passive checkpoint and returns the frames in the log
// and how many of them are in the database file now.
func (c *checkpointer) checkpoint(ctx context.Context) (log, done int64, err error) {
	var busy int
	err = c.conn.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &log, &done)
	if err != nil {
		return 0, 0, fmt.Errorf("checkpoint: %w", err)
	}
	return log, done, nil
}

func (c *checkpointer) record(ev walEvent) {
	now := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stats.WALBytes = ev.logBytes
	if ev.checkpoint && ev.err == nil {
		c.stats.LastSuccess = now
		c.stats.Runs++
		if ev.restart {
			c.stats.Restarts++
		}
	}
	if ev.err != nil && !errors.Is(ev.err, context.Canceled) {
		c.stats.Failures++
		c.stats.LastError, c.stats.LastFailure = ev.err, now
	}
}

// walSize reports how many bytes the log holds and how many of them are
// not in the database file yet. It reads both from the wal-index header at
// the start of the -shm file (https://sqlite.org/walformat.html#shm); when
// that cannot be read, it takes the size of the -wal file for both, which
// checkpoints more often than needed.
func (c *checkpointer) walSize() (log, pending int64, err error) {
	if c.shm == nil {
		c.shm, err = os.Open(c.shmPath)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return 0, 0, err
		}
	}
	if c.shm != nil {
		if idx, ok := readWALIndex(c.shm); ok {
			return int64(idx.mxFrame) * idx.frameBytes, int64(idx.mxFrame-idx.nBackfill) * idx.frameBytes, nil
		}
	}
	info, err := os.Stat(c.walPath)
	if errors.Is(err, os.ErrNotExist) {
		return 0, 0, nil
	}
	if err != nil {
		return 0, 0, err
	}
	return info.Size(), info.Size(), nil
}

// walIndex is what the checkpointer reads of the wal-index: the frames in
// the log, how many of them are in the database file, and the size of one
// (a page and its 24-byte header).
type walIndex struct {
	mxFrame, nBackfill uint32
	frameBytes         int64
}

// readWALIndex reads the wal-index header and the count of backfilled
// frames from an -shm file, in the machine's byte order, as SQLite's
// "Database File Format" document lays them out in "The WAL-Index Format"
// (https://www.sqlite.org/walformat.html#the_wal_index_file_format): the
// 48-byte WalIndexHdr is kept twice, at offsets 0 and 48, and the
// WalCkptInfo follows at 96. Of the header it reads iVersion (u32 at 0,
// 3007000), isInit (u8 at 12, 1 once initialised), szPage (u16 at 14, the
// page size, 1 meaning 65536) and mxFrame (u32 at 16, the last valid frame
// in the log); of the checkpoint information nBackfill (u32 at 96, the
// frames already copied into the database file). A frame is its 24-byte
// header and a page ("The WAL File Format", in the same document). ok is
// false when the two copies differ (a writer is changing them: its commit
// will ask again) or do not look like a header.
func readWALIndex(shm io.ReaderAt) (idx walIndex, ok bool) {
	const hdrBytes, version = 48, 3007000
	var b [2*hdrBytes + 4]byte
	if _, err := shm.ReadAt(b[:], 0); err != nil {
		return idx, false
	}
	h := b[:hdrBytes]
	ne := binary.NativeEndian
	if !bytes.Equal(h, b[hdrBytes:2*hdrBytes]) || ne.Uint32(h[0:]) != version || h[12] != 1 {
		return idx, false
	}
	page := int64(ne.Uint16(h[14:]))
	if page == 1 {
		page = 1 << 16
	}
	idx = walIndex{mxFrame: ne.Uint32(h[16:]), nBackfill: ne.Uint32(b[2*hdrBytes:]), frameBytes: 24 + page}
	return idx, page >= 512 && idx.nBackfill <= idx.mxFrame
}

// close stops the goroutine, waits for it, and checkpoints what is left,
// emptying the log (TRUNCATE), on the checkpointer's connection. A reader
// in another process may hold the log for a while; this waits for it at
// most a second, as the log is checkpointed again at the next start anyway.
func (c *checkpointer) close() error {
	c.cancel()
	<-c.done
	if c.shm != nil {
		c.shm.Close()
	}
	ctx := context.Background()
	var busy, log, done int
	_, err := c.conn.ExecContext(ctx, "PRAGMA busy_timeout = 1000")
	if err == nil {
		err = c.conn.QueryRowContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &log, &done)
	}
	err = errors.Join(err, c.conn.Close())
	c.mu.Lock()
	defer c.mu.Unlock()
	return errors.Join(err, c.panic)
}
