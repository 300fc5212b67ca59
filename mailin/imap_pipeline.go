package mailin

// How one group of messages goes through the intake: a goroutine streams
// the bodies off the wire, workers parse them on every core, and the
// calling goroutine records them in UID order as soon as each is ready, so
// that download, parsing and the desk's transactions overlap. The moves
// come after the FETCH has ended: the connection carries nothing else
// while it streams.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"runtime/debug"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// group downloads a group's messages, parses them on every core, records
// each in UID order, and then moves the handled ones with one command per
// folder. Recording starts with the first message downloaded, while the
// rest still streams in. A crash between a commit and the move only makes
// the mail a duplicate next time.
//
// The group stops early, leaving the rest in the folder, when ctx ends,
// when the desk fails in a way that is not the message's fault, or when the
// FETCH fails; what was recorded is moved when the connection still works.
// No goroutine it starts outlives it.
func (p *Poller) group(ctx context.Context, c *conn, group []sized) (int, error) {
	limit := p.in.Limit()
	if len(group) == 1 && group[0].size > limit {
		return p.oversize(ctx, c, group[0].uid, group[0].size)
	}
	uids := make([]imap.UID, len(group))
	for i, m := range group {
		uids[i] = m.uid
	}
	pl := p.startPipeline(c.c, uids, limit)
	defer func() {
		if v := recover(); v != nil {
			// The FETCH cannot be read to its end in good order: hang up,
			// so that the pipeline's goroutines end, and wait for them.
			c.c.Close()
			pl.finish()
			panic(v)
		}
	}()
	// Once ctx ends no new message is started, but those recorded are
	// moved (see Poller.poll for the bound on that).
	work := context.WithoutCancel(ctx)
	moves := map[string][]handled{}
	err := p.recordInOrder(ctx, work, pl, uids, limit, moves)
	pl.finish()
	err = errors.Join(err, pl.err)
	select {
	case <-c.c.Closed():
		// What was recorded stays in the folder and is recorded again as a
		// duplicate next time.
		return 0, err
	default:
	}
	n, merr := p.moveHandled(work, c, moves)
	return n, errors.Join(err, merr)
}

// recordInOrder records the group's messages in UID order, each as soon as
// it and every message before it have been downloaded and parsed. A UID
// that never arrives (expunged by someone else since the search) is known
// only once the FETCH has ended. It stops without error when the FETCH
// fails: group reports that.
func (p *Poller) recordInOrder(ctx, work context.Context, pl *pipeline, uids []imap.UID, limit int64, moves map[string][]handled) error {
	pending := make(map[imap.UID]ready) // arrived out of turn
	results := pl.results
	for next := 0; next < len(uids); {
		r, ok := pending[uids[next]]
		if !ok && results == nil {
			next++ // never arrived
			continue
		}
		if !ok {
			pl.ask(uids[next])
			select {
			case r, open := <-results:
				switch {
				case open:
					pending[r.uid] = r
				case pl.err != nil: // failed is closed before results
					return nil
				default:
					results = nil
				}
			case <-pl.failed:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
			continue
		}
		delete(pending, uids[next])
		next++
		if err := ctx.Err(); err != nil {
			return err
		}
		if pl.hasFailed() {
			// What the FETCH delivered is left too: the connection may be
			// gone, and then it would only come back as a duplicate.
			return nil
		}
		err := p.take(work, r, limit, moves)
		pl.release(int64(len(r.raw)))
		if err != nil {
			return err
		}
	}
	return nil
}

// take records one downloaded message and adds it to moves.
func (p *Poller) take(ctx context.Context, r ready, limit int64, moves map[string][]handled) error {
	switch {
	case r.err != nil:
		log := p.log.With("uid", uint32(r.uid), "bytes", len(r.raw))
		p.failed(r.uid, r.err, r.at, log, moves)
		return nil
	case int64(len(r.raw)) > limit: // the server understated RFC822.SIZE
		return p.tooLarge(ctx, r, moves)
	default:
		return p.handle(ctx, r.uid, r.prep, r.at, moves)
	}
}

// fetched is one message's body as it came off the wire.
type fetched struct {
	uid  imap.UID
	raw  []byte    // at most limit+1 bytes
	size int64     // the size the server announced for raw's literal
	at   time.Time // when its download ended
}

// ready is a downloaded message after the parse workers: prep is nil when
// raw is over the limit or err is set.
type ready struct {
	fetched
	prep *Prepared
	err  error // the worker panicked on it
}

// pipeline is one group's download and parsing, running in goroutines that
// the caller of startPipeline waits for with finish.
type pipeline struct {
	// results delivers each message downloaded, once and in no set order.
	// It is closed when the FETCH has ended and every message is parsed.
	results chan ready
	// failed is closed when the FETCH failed; err says why.
	failed chan struct{}
	// stop, closed by finish, makes the pipeline parse nothing more and
	// read the rest of the FETCH without keeping it.
	stop     chan struct{}
	stopOnce sync.Once
	// done is closed when every goroutine of the pipeline has returned.
	done chan struct{}
	// err is the FETCH's error: read it after failed or done is closed.
	err error

	mu   sync.Mutex
	held int64    // bytes read off the wire and not yet released by the recorder
	want imap.UID // the message the recorder waits for; 0 before it waits
	// room wakes the fetch when held went down or want changed; capacity 1.
	room chan struct{}
}

// leadBytes bounds how far the download and parsing run ahead of the
// desk: bodies read and not yet recorded. A message over it is read alone.
// It lets parsing stay ahead of the desk, even of a mail whose attachments
// take long to parse, without holding a whole group (up to the message
// limit, 25 MiB) and its parsed form in memory.
const leadBytes = 4 << 20

// startPipeline sends UID FETCH BODY.PEEK[] for uids and starts a goroutine
// that streams the bodies, at most limit+1 bytes of each, to GOMAXPROCS
// parse workers. The caller takes the results and must call finish.
func (p *Poller) startPipeline(c *imapclient.Client, uids []imap.UID, limit int64) *pipeline {
	pl := &pipeline{
		// One slot per UID: a worker never waits for the recorder. What
		// is held is bounded by leadBytes, not by this channel.
		results: make(chan ready, len(uids)),
		failed:  make(chan struct{}),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
		room:    make(chan struct{}, 1),
	}
	workers := min(runtime.GOMAXPROCS(0), len(uids))
	bodies := make(chan fetched, workers)
	src := Source{Mailbox: p.o.Name, UIDValidity: p.uidValidity}
	var wg sync.WaitGroup
	for range workers {
		p.inFlight.Add(1)
		wg.Go(func() {
			defer p.inFlight.Add(-1)
			pl.parse(p.in, src, limit, bodies, p.log, p.panicked)
		})
	}
	p.inFlight.Add(1)
	go func() {
		defer close(pl.done)
		defer p.inFlight.Add(-1)
		if err := pl.fetch(c, uids, limit, bodies, p.log, p.panicked); err != nil {
			pl.err = err
			close(pl.failed)
		}
		close(bodies)
		wg.Wait()
		close(pl.results)
	}()
	return pl
}

// finish stops the pipeline and waits for its goroutines. It may be called
// more than once.
func (pl *pipeline) finish() {
	pl.stopOnce.Do(func() { close(pl.stop) })
	<-pl.done
}

// ask tells the fetch that the recorder waits for uid: while uid is not
// read, the fetch reads on whatever leadBytes says, so that a message the
// server sends late or never cannot keep the group waiting.
func (pl *pipeline) ask(uid imap.UID) {
	pl.mu.Lock()
	pl.want = uid
	pl.mu.Unlock()
	pl.wake()
}

// release returns n bytes of the lead, once their message is recorded.
func (pl *pipeline) release(n int64) {
	pl.mu.Lock()
	pl.held -= n
	pl.mu.Unlock()
	pl.wake()
}

// wake makes a waitRoom in progress look again.
func (pl *pipeline) wake() {
	select {
	case pl.room <- struct{}{}:
	default:
	}
}

// waitRoom waits until the fetch may read another message: the lead is
// under leadBytes, or the recorder waits for a message still unread. It
// reports false once the pipeline is stopped.
func (pl *pipeline) waitRoom(unread map[imap.UID]bool) bool {
	for {
		pl.mu.Lock()
		ok := pl.held < leadBytes || unread[pl.want]
		pl.mu.Unlock()
		if ok {
			return !pl.stopped()
		}
		select {
		case <-pl.room:
		case <-pl.stop:
			return false
		}
	}
}

// hasFailed reports whether the FETCH failed.
func (pl *pipeline) hasFailed() bool { return closed(pl.failed) }

// stopped reports whether finish was called.
func (pl *pipeline) stopped() bool { return closed(pl.stop) }

// closed reports whether ch is closed; nothing is ever sent on it.
func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// fetch streams the bodies of uids into bodies, each UID once. After stop
// it reads the rest of the FETCH without keeping it, so that the connection
// can carry the moves.
func (pl *pipeline) fetch(c *imapclient.Client, uids []imap.UID, limit int64, bodies chan<- fetched, log *slog.Logger,
	panicked func(where string)) (err error) {
	defer func() {
		if v := recover(); v != nil {
			panicked(PanicFetch)
			log.Error("fetch panicked", "panic", v, "stack", string(debug.Stack()))
			c.Close() // the command's state is unknown
			err = fmt.Errorf("uid fetch body.peek[]: panic: %v", v)
		}
	}()
	unread := make(map[imap.UID]bool, len(uids))
	for _, uid := range uids {
		unread[uid] = true
	}
	opts := &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{{Peek: true}}}
	cmd := c.Fetch(imap.UIDSetNum(uids...), opts)
	for pl.waitRoom(unread) {
		msg := cmd.Next()
		if msg == nil {
			break
		}
		f, err := readBody(msg, limit)
		if err != nil {
			// Closing the command would read the broken literal again, racing
			// imapclient's decoder for the connection's buffer: hang up instead.
			c.Close()
			return err
		}
		if !unread[f.uid] || f.raw == nil {
			continue
		}
		unread[f.uid] = false
		f.at = time.Now()
		pl.mu.Lock()
		pl.held += int64(len(f.raw))
		pl.mu.Unlock()
		select {
		case bodies <- f:
		case <-pl.stop:
		}
	}
	if err := cmd.Close(); err != nil {
		return fmt.Errorf("uid fetch body.peek[]: %w", err)
	}
	return nil
}

// parse is one worker: it prepares the bodies under the limit and passes
// on every body it was given, until bodies is closed. A panic it recovers
// is logged and told to panicked.
func (pl *pipeline) parse(in *Intake, src Source, limit int64, bodies <-chan fetched, log *slog.Logger,
	panicked func(where string)) {
	for f := range bodies {
		if pl.stopped() {
			continue
		}
		r := prepare(in, src, limit, f, log, panicked)
		select {
		case pl.results <- r:
		case <-pl.stop:
		}
	}
}

// prepare runs Intake.Prepare on f unless it is over the limit. Prepare
// does not panic; should it still, the message counts as a failed attempt.
func prepare(in *Intake, src Source, limit int64, f fetched, log *slog.Logger, panicked func(where string)) (r ready) {
	r.fetched = f
	defer func() {
		if v := recover(); v != nil {
			panicked(PanicWorker)
			log.Error("parse worker panicked", "uid", uint32(f.uid), "panic", v, "stack", string(debug.Stack()))
			r.prep, r.err = nil, fmt.Errorf("parse worker panicked: %v", v)
		}
	}()
	if int64(len(f.raw)) <= limit {
		src.UID = uint32(f.uid)
		r.prep = in.Prepare(f.raw, src)
	}
	return r
}

// readBody reads one FETCH response: the UID, and at most limit+1 bytes of
// the body with the size the server announced for it; raw is nil when the
// response has no body. A literal cut short by a dropped connection reads
// as a clean EOF, so its length is checked.
func readBody(msg *imapclient.FetchMessageData, limit int64) (fetched, error) {
	var f fetched
	for item := msg.Next(); item != nil; item = msg.Next() {
		switch item := item.(type) {
		case imapclient.FetchItemDataUID:
			f.uid = item.UID
		case imapclient.FetchItemDataBodySection:
			if item.Literal == nil {
				f.raw, f.size = []byte{}, 0
				continue
			}
			// One buffer of the announced size (at most limit+1): io.ReadAll
			// would double its way up and hold twice a big mail for a while.
			f.size = item.Literal.Size()
			want := min(f.size, limit+1)
			b := make([]byte, want)
			if n, err := io.ReadFull(item.Literal, b); err != nil {
				return fetched{}, fmt.Errorf("read body of uid %d: got %d of %d bytes: %w", f.uid, n, want, err)
			}
			f.raw = b
		}
	}
	return f, nil
}

// headerPart is raw's header with the blank line that ends it, at most max
// bytes of it: what BODY.PEEK[HEADER] returns, copied.
func headerPart(raw []byte, max int) []byte {
	b := raw[:min(len(raw), max)]
	end := len(b)
	if i := bytes.Index(b, []byte("\r\n\r\n")); i >= 0 {
		end = i + 4
	}
	if i := bytes.Index(b[:end], []byte("\n\n")); i >= 0 {
		end = i + 2
	}
	return bytes.Clone(b[:end])
}
