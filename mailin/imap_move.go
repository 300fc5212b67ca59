package mailin

// What happens to the messages of the selected folder: sizes, download,
// the intake, and the move out of the folder.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/postdesk/postdesk/desk"
)

// sized is a message's UID and its RFC822.SIZE.
type sized struct {
	uid  imap.UID
	size int64
}

// batch handles up to fetchBatch messages: sizes first, then the bodies of
// those under the limit, a group at a time.
func (p *Poller) batch(ctx context.Context, c *conn, uids []imap.UID) (int, error) {
	msgs, err := fetchSizes(c.c, uids)
	if err != nil {
		return 0, err
	}
	handled := 0
	for _, group := range groupBySize(msgs, p.in.Limit()) {
		n, err := p.group(ctx, c, group)
		handled += n
		if err != nil {
			return handled, err
		}
	}
	return handled, nil
}

// fetchSizes returns the UIDs still present with their sizes, in uids' order.
func fetchSizes(c *imapclient.Client, uids []imap.UID) ([]sized, error) {
	cmd := c.Fetch(imap.UIDSetNum(uids...), &imap.FetchOptions{UID: true, RFC822Size: true})
	defer cmd.Close()
	sizes := make(map[imap.UID]int64, len(uids))
	for msg := cmd.Next(); msg != nil; msg = cmd.Next() {
		var s sized
		for item := msg.Next(); item != nil; item = msg.Next() {
			switch item := item.(type) {
			case imapclient.FetchItemDataUID:
				s.uid = item.UID
			case imapclient.FetchItemDataRFC822Size:
				s.size = item.Size
			}
		}
		if s.uid != 0 {
			sizes[s.uid] = s.size
		}
	}
	if err := cmd.Close(); err != nil {
		return nil, fmt.Errorf("uid fetch rfc822.size: %w", err)
	}
	out := make([]sized, 0, len(uids))
	for _, uid := range uids {
		if size, ok := sizes[uid]; ok {
			out = append(out, sized{uid, size})
		}
	}
	return out, nil
}

// groupBySize splits msgs, keeping their order, into groups to download
// together, each holding at most limit bytes (or one message), and
// single-message groups for those over the limit, which are never downloaded.
func groupBySize(msgs []sized, limit int64) [][]sized {
	var groups [][]sized
	var cur []sized
	var total int64
	flush := func() {
		if len(cur) > 0 {
			groups = append(groups, cur)
		}
		cur, total = nil, 0
	}
	for _, m := range msgs {
		if m.size > limit {
			flush()
			groups = append(groups, []sized{m})
			continue
		}
		if total+m.size > limit {
			flush()
		}
		cur, total = append(cur, m), total+m.size
	}
	flush()
	return groups
}

// group downloads a group's messages, parses them on every core, records
// each in UID order, and then moves the handled ones with one command per
// folder. The FETCH must be over before other commands can be sent; a crash
// between a commit and the move only makes the mail a duplicate next time.
func (p *Poller) group(ctx context.Context, c *conn, group []sized) (int, error) {
	limit := p.in.Limit()
	if len(group) == 1 && group[0].size > limit {
		return p.oversize(ctx, c, group[0].uid, group[0].size)
	}
	uids := make([]imap.UID, len(group))
	for i, m := range group {
		uids[i] = m.uid
	}
	bodies, err := fetchBodies(c.c, uids, limit)
	if err != nil {
		return 0, err
	}
	prepared := p.prepare(uids, bodies, limit)
	// Once ctx ends no new message is started, but those recorded are
	// moved (see Poller.poll for the bound on that).
	work := context.WithoutCancel(ctx)
	moves := map[string][]handled{}
	handledN := 0
	for _, uid := range uids {
		if err = ctx.Err(); err != nil {
			break
		}
		raw, ok := bodies[uid]
		if !ok {
			continue // expunged by someone else since the search
		}
		var n int
		if int64(len(raw)) > limit { // the server understated RFC822.SIZE
			n, err = p.oversize(work, c, uid, int64(len(raw)))
		} else {
			n, err = p.handle(work, c, uid, prepared[uid], moves)
		}
		handledN += n
		if err != nil {
			break
		}
	}
	n, merr := p.moveHandled(c, moves)
	return handledN + n, errors.Join(err, merr)
}

// prepare parses the downloaded messages of a group on every core.
func (p *Poller) prepare(uids []imap.UID, bodies map[imap.UID][]byte, limit int64) map[imap.UID]*Prepared {
	out := make(map[imap.UID]*Prepared, len(uids))
	var mu sync.Mutex
	jobs := make(chan imap.UID)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(uids)) {
		wg.Go(func() {
			for uid := range jobs {
				prep := p.in.Prepare(bodies[uid], p.source(uid))
				mu.Lock()
				out[uid] = prep
				mu.Unlock()
			}
		})
	}
	for _, uid := range uids {
		if raw, ok := bodies[uid]; ok && int64(len(raw)) <= limit {
			jobs <- uid
		}
	}
	close(jobs)
	wg.Wait()
	return out
}

// source is where message uid of this mailbox comes from.
func (p *Poller) source(uid imap.UID) Source {
	return Source{Mailbox: p.o.Name, UIDValidity: p.uidValidity, UID: uint32(uid)}
}

// fetchBodies streams BODY.PEEK[] of uids, keeping at most limit+1 bytes of
// each (DESIGN §8: never Collect()).
func fetchBodies(c *imapclient.Client, uids []imap.UID, limit int64) (map[imap.UID][]byte, error) {
	opts := &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{{Peek: true}}}
	cmd := c.Fetch(imap.UIDSetNum(uids...), opts)
	bodies := make(map[imap.UID][]byte, len(uids))
	for msg := cmd.Next(); msg != nil; msg = cmd.Next() {
		uid, raw, err := readBody(msg, limit)
		if err != nil {
			// Closing the command would read the broken literal again, racing
			// imapclient's decoder for the connection's buffer: hang up instead.
			c.Close()
			return nil, err
		}
		if uid != 0 && raw != nil {
			bodies[uid] = raw
		}
	}
	if err := cmd.Close(); err != nil {
		return nil, fmt.Errorf("uid fetch body.peek[]: %w", err)
	}
	return bodies, nil
}

// readBody reads one FETCH response. A literal cut short by a dropped
// connection reads as a clean EOF, so its length is checked.
func readBody(msg *imapclient.FetchMessageData, limit int64) (imap.UID, []byte, error) {
	var uid imap.UID
	var raw []byte
	for item := msg.Next(); item != nil; item = msg.Next() {
		switch item := item.(type) {
		case imapclient.FetchItemDataUID:
			uid = item.UID
		case imapclient.FetchItemDataBodySection:
			if item.Literal == nil {
				raw = []byte{}
				continue
			}
			// One buffer of the announced size (at most limit+1): io.ReadAll
			// would double its way up and hold twice a big mail for a while.
			want := min(item.Literal.Size(), limit+1)
			b := make([]byte, want)
			if n, err := io.ReadFull(item.Literal, b); err != nil {
				return 0, nil, fmt.Errorf("read body of uid %d: got %d of %d bytes: %w", uid, n, want, err)
			}
			raw = b
		}
	}
	return uid, raw, nil
}

// handled is a message recorded and waiting to be moved.
type handled struct {
	uid   imap.UID
	res   desk.Result
	start time.Time
	log   *slog.Logger
}

// handle records one prepared message and adds it to moves, under the
// folder it goes to. A message the desk failed on stays for a later poll
// (and after MaxAttempts goes to Quarantine at once).
func (p *Poller) handle(ctx context.Context, c *conn, uid imap.UID, prep *Prepared, moves map[string][]handled) (int, error) {
	start := time.Now()
	log := p.log.With("uid", uint32(uid), "msgid", prep.MessageID(), "bytes", len(prep.raw))
	res, err := p.record(ctx, prep, uid)
	if err != nil {
		if ctx.Err() != nil || errors.Is(err, desk.ErrUnavailable) {
			// Not the message's fault: leave it, uncounted, for a later poll.
			return 0, err
		}
		n, ferr := p.failed(c, uid, err, log)
		if n > 0 {
			p.processed(desk.Quarantined, start)
		}
		return n, ferr
	}
	dest := p.o.Processed
	if res.Outcome == desk.Quarantined {
		dest = p.o.Quarantine
	}
	moves[dest] = append(moves[dest], handled{uid: uid, res: res, start: start, log: log})
	return 0, nil
}

// moveHandled moves the recorded messages, one command per folder, and
// reports each.
func (p *Poller) moveHandled(c *conn, moves map[string][]handled) (int, error) {
	n := 0
	for _, dest := range []string{p.o.Processed, p.o.Quarantine} {
		hs := moves[dest]
		if len(hs) == 0 {
			continue
		}
		uids := make([]imap.UID, len(hs))
		for i, h := range hs {
			uids[i] = h.uid
		}
		if err := p.move(c, uids, dest); err != nil {
			return n, err
		}
		for _, h := range hs {
			delete(p.attempts, attemptKey{p.uidValidity, h.uid})
			p.processed(h.res.Outcome, h.start)
			h.log.Info("message handled", "outcome", h.res.Outcome, "case", h.res.Case, "reason", h.res.Reason,
				"folder", dest, "duration", time.Since(h.start))
		}
		n += len(hs)
	}
	return n, nil
}

// record hands a prepared message to the desk, turning a panic into an
// error so that one bad message is retried and then quarantined instead of
// stopping the daemon.
func (p *Poller) record(ctx context.Context, prep *Prepared, uid imap.UID) (res desk.Result, err error) {
	defer func() {
		if v := recover(); v != nil {
			p.log.Error("intake panicked", "uid", uint32(uid), "panic", v, "stack", string(debug.Stack()))
			err = fmt.Errorf("intake panicked: %v", v)
		}
	}()
	return p.in.Record(ctx, prep)
}

// failed counts a failed attempt at uid; at MaxAttempts the message goes to
// Quarantine.
func (p *Poller) failed(c *conn, uid imap.UID, cause error, log *slog.Logger) (int, error) {
	key := attemptKey{p.uidValidity, uid}
	p.attempts[key]++
	n := p.attempts[key]
	if n < p.o.MaxAttempts {
		log.Warn("intake failed; message left for retry", "attempt", n, "err", cause)
		return 0, nil
	}
	if err := p.move(c, []imap.UID{uid}, p.o.Quarantine); err != nil {
		return 0, err
	}
	delete(p.attempts, key)
	log.Error("intake failed repeatedly; message moved to quarantine", "attempt", n, "err", cause,
		"folder", p.o.Quarantine)
	return 1, nil
}

// oversize records a message over the size limit from its header alone
// (the desk tells the sender), then moves it to Quarantine: the message is
// never downloaded and nothing of it is lost.
func (p *Poller) oversize(ctx context.Context, c *conn, uid imap.UID, size int64) (int, error) {
	start := time.Now()
	hdr, err := fetchHeader(c.c, uid, maxHeader)
	if err != nil {
		return 0, err
	}
	res, err := p.in.TooLarge(ctx, hdr, size, p.source(uid))
	if err != nil {
		return 0, fmt.Errorf("record oversize uid %d: %w", uid, err)
	}
	if err := p.move(c, []imap.UID{uid}, p.o.Quarantine); err != nil {
		return 0, err
	}
	p.processed(desk.Quarantined, start)
	p.log.Warn("message over the size limit moved to quarantine without download", "uid", uint32(uid),
		"bytes", size, "limit", p.in.Limit(), "folder", p.o.Quarantine, "outcome", res.Outcome)
	if p.o.OnOversize != nil {
		p.o.OnOversize(ctx, uint32(uid), size)
	}
	return 1, nil
}

// maxHeader is the most of an oversize message's header that is read.
const maxHeader = 64 << 10

// fetchHeader reads the header of uid (BODY.PEEK[HEADER]), at most max
// bytes of it.
func fetchHeader(c *imapclient.Client, uid imap.UID, max int64) ([]byte, error) {
	opts := &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{
		{Specifier: imap.PartSpecifierHeader, Peek: true}}}
	cmd := c.Fetch(imap.UIDSetNum(uid), opts)
	var hdr []byte
	for msg := cmd.Next(); msg != nil; msg = cmd.Next() {
		_, raw, err := readBody(msg, max)
		if err != nil {
			c.Close() // see fetchBodies
			return nil, err
		}
		if raw != nil {
			hdr = raw
		}
	}
	if err := cmd.Close(); err != nil {
		return nil, fmt.Errorf("uid fetch body.peek[header]: %w", err)
	}
	return hdr[:min(int64(len(hdr)), max)], nil
}

// seenOnly reports whether handled mail stays in the folder flagged \Seen:
// the server can neither MOVE (RFC 6851) nor expunge by UID (RFC 4315).
func (c *conn) seenOnly() bool {
	return !c.caps.Has(imap.CapMove) && !c.caps.Has(imap.CapUIDPlus)
}

// move takes messages uids of the selected folder to dest. When the server
// answers that dest does not exist (TRYCREATE), dest is created and the move
// tried once more.
func (p *Poller) move(c *conn, uids []imap.UID, dest string) error {
	set := imap.UIDSetNum(uids...)
	err := moveOnce(c, set, dest)
	var imapErr *imap.Error
	if errors.As(err, &imapErr) && imapErr.Code == imap.ResponseCodeTryCreate {
		if cerr := ensureFolder(c.c, dest); cerr != nil {
			return errors.Join(err, cerr)
		}
		err = moveOnce(c, set, dest)
	}
	if err != nil {
		return fmt.Errorf("move uid %v to %s: %w", set, dest, err)
	}
	return nil
}

// moveOnce uses UID MOVE when the server has it. Otherwise it does not use
// imapclient's Move fallback, which pipelines COPY, STORE and EXPUNGE and so
// deletes the message even when COPY failed (DESIGN §8): it copies, and only
// after the server confirmed the copy marks the message \Deleted and expunges
// those UIDs. Without UIDPLUS it only marks the copy's source \Seen.
func moveOnce(c *conn, set imap.UIDSet, dest string) error {
	if c.caps.Has(imap.CapMove) {
		_, err := c.c.Move(set, dest).Wait()
		return err
	}
	if _, err := c.c.Copy(set, dest).Wait(); err != nil {
		return fmt.Errorf("uid copy: %w", err)
	}
	if c.seenOnly() {
		return addFlag(c.c, set, imap.FlagSeen)
	}
	if err := addFlag(c.c, set, imap.FlagDeleted); err != nil {
		return err
	}
	if err := c.c.UIDExpunge(set).Close(); err != nil {
		return fmt.Errorf("uid expunge: %w", err)
	}
	return nil
}

// addFlag sets flag on set, silently.
func addFlag(c *imapclient.Client, set imap.UIDSet, flag imap.Flag) error {
	store := &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{flag}}
	if err := c.Store(set, store, nil).Close(); err != nil {
		return fmt.Errorf("uid store +flags.silent (%s): %w", flag, err)
	}
	return nil
}

// ensureFolder creates name unless it exists. Servers without RFC 5530
// response codes say "already exists" only in free text, so when CREATE
// fails without ALREADYEXISTS the folder is looked up instead.
func ensureFolder(c *imapclient.Client, name string) error {
	err := c.Create(name, nil).Wait()
	if err == nil {
		return nil
	}
	var imapErr *imap.Error
	if errors.As(err, &imapErr) && imapErr.Code == imap.ResponseCodeAlreadyExists {
		return nil
	}
	exists, lerr := folderExists(c, name)
	if lerr != nil {
		return fmt.Errorf("create %s: %w", name, errors.Join(err, lerr))
	}
	if !exists {
		return fmt.Errorf("create %s: %w", name, err)
	}
	return nil
}

// folderExists lists name exactly.
func folderExists(c *imapclient.Client, name string) (bool, error) {
	list, err := c.List("", name, nil).Collect()
	if err != nil {
		return false, fmt.Errorf("list %s: %w", name, err)
	}
	for _, m := range list {
		if m.Mailbox == name || strings.EqualFold(name, "INBOX") && strings.EqualFold(m.Mailbox, "INBOX") {
			return true, nil
		}
	}
	return false, nil
}
