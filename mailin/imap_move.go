package mailin

// What happens to the messages of the selected folder: sizes and groups,
// the desk's answer for each message, and the move out of the folder. The
// download and parsing of a group are in imap_pipeline.go.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
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

// source is where message uid of this mailbox comes from.
func (p *Poller) source(uid imap.UID) Source {
	return Source{Mailbox: p.o.Name, UIDValidity: p.uidValidity, UID: uint32(uid)}
}

// handled is a message to move out of the folder once the FETCH is over:
// recorded by the desk, failed MaxAttempts times, or over the limit.
type handled struct {
	uid   imap.UID
	res   desk.Result
	start time.Time
	log   *slog.Logger
	// cause is set for a message going to Quarantine after attempt
	// failures: the last one's error.
	cause   error
	attempt int
	// size is set for a message over the limit whose RFC822.SIZE said
	// otherwise: the bytes downloaded of it.
	size int64
}

// handle records one prepared message and adds it to moves, under the
// folder it goes to. A message the desk failed on stays for a later poll
// (and after MaxAttempts goes to Quarantine). start is when its download
// ended.
func (p *Poller) handle(ctx context.Context, uid imap.UID, prep *Prepared, start time.Time, moves map[string][]handled) error {
	log := p.log.With("uid", uint32(uid), "msgid", prep.MessageID(), "bytes", len(prep.raw))
	for _, where := range prep.panics {
		p.panicked(where)
	}
	res, err := p.record(ctx, prep, uid)
	if err != nil {
		if ctx.Err() != nil || errors.Is(err, desk.ErrUnavailable) {
			// Not the message's fault: leave it, uncounted, for a later poll.
			return err
		}
		p.failed(uid, err, start, log, moves)
		return nil
	}
	dest := p.o.Processed
	if res.Outcome == desk.Quarantined {
		dest = p.o.Quarantine
	}
	moves[dest] = append(moves[dest], handled{uid: uid, res: res, start: start, log: log})
	return nil
}

// tooLarge records a downloaded message that is over the limit although
// the server said otherwise, from its header, and adds it to the moves to
// Quarantine.
func (p *Poller) tooLarge(ctx context.Context, r ready, moves map[string][]handled) error {
	size := max(r.size, int64(len(r.raw)))
	res, err := p.in.TooLarge(ctx, headerPart(r.raw, maxHeader), size, p.source(r.uid), p.panicked)
	if err != nil {
		return fmt.Errorf("record oversize uid %d: %w", r.uid, err)
	}
	h := handled{uid: r.uid, res: res, start: r.at, size: size, log: p.log.With("uid", uint32(r.uid))}
	moves[p.o.Quarantine] = append(moves[p.o.Quarantine], h)
	return nil
}

// moveHandled moves the handled messages, one command per folder, and
// reports each.
func (p *Poller) moveHandled(ctx context.Context, c *conn, moves map[string][]handled) (int, error) {
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
			p.report(ctx, h, dest)
		}
		n += len(hs)
	}
	return n, nil
}

// report logs a message moved to dest and tells the Observer.
func (p *Poller) report(ctx context.Context, h handled, dest string) {
	delete(p.attempts, attemptKey{p.uidValidity, h.uid})
	switch {
	case h.cause != nil:
		p.processed(desk.Quarantined, h.start)
		h.log.Error("intake failed repeatedly; message moved to quarantine", "attempt", h.attempt, "err", h.cause,
			"folder", dest)
	case h.size > 0:
		p.processed(desk.Quarantined, h.start)
		h.log.Warn("message over the size limit moved to quarantine", "bytes", h.size, "limit", p.in.Limit(),
			"folder", dest, "outcome", h.res.Outcome)
		if p.o.OnOversize != nil {
			p.o.OnOversize(ctx, uint32(h.uid), h.size)
		}
	default:
		p.processed(h.res.Outcome, h.start)
		h.log.Info("message handled", "outcome", h.res.Outcome, "case", h.res.Case, "reason", h.res.Reason,
			"folder", dest, "duration", time.Since(h.start))
	}
}

// record hands a prepared message to the desk, turning a panic into an
// error so that one bad message is retried and then quarantined instead of
// stopping the daemon.
func (p *Poller) record(ctx context.Context, prep *Prepared, uid imap.UID) (res desk.Result, err error) {
	defer func() {
		if v := recover(); v != nil {
			p.panicked(PanicRecord)
			p.log.Error("intake panicked", "uid", uint32(uid), "panic", v, "stack", string(debug.Stack()))
			err = fmt.Errorf("intake panicked: %v", v)
		}
	}()
	return p.in.Record(ctx, prep)
}

// failed counts a failed attempt at uid; at MaxAttempts the message is
// added to the moves to Quarantine.
func (p *Poller) failed(uid imap.UID, cause error, start time.Time, log *slog.Logger, moves map[string][]handled) {
	key := attemptKey{p.uidValidity, uid}
	p.attempts[key]++
	n := p.attempts[key]
	if n < p.o.MaxAttempts {
		log.Warn("intake failed; message left for retry", "attempt", n, "err", cause)
		return
	}
	h := handled{uid: uid, start: start, log: log, cause: cause, attempt: n}
	moves[p.o.Quarantine] = append(moves[p.o.Quarantine], h)
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
	res, err := p.in.TooLarge(ctx, hdr, size, p.source(uid), p.panicked)
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
		f, err := readBody(msg, max)
		if err != nil {
			c.Close() // see pipeline.fetch
			return nil, err
		}
		if f.raw != nil {
			hdr = f.raw
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
