package main

// /healthz (DESIGN §10): 200 {"status":"ok"}, or 503
// {"status":"unhealthy","reasons":[...]} when the database cannot be
// written or its write-ahead log has outgrown its checkpoints, a mailbox
// has not been reached, or mail waits too long to be sent.

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/postdesk/postdesk/config"
	"github.com/postdesk/postdesk/mailin"
	"github.com/postdesk/postdesk/store"
)

const (
	// writeCheckTimeout bounds the database's write check.
	writeCheckTimeout = 2 * time.Second
	// writeCheckEvery is how often at most /healthz writes to the
	// database; requests in between get the last result, so that a flood
	// of requests to the public /healthz does not become a flood of writes.
	writeCheckEvery = time.Second
	// minStale is the shortest time without a successful poll after which
	// a mailbox is unhealthy (staleAfter).
	minStale = 2 * time.Minute
	// defaultOutboxAge is healthLimits.outboxAge when it is 0: [http]
	// health_outbox_age's default.
	defaultOutboxAge = 15 * time.Minute
	// maxHealthyWAL is the longest write-ahead log /healthz accepts. A
	// working checkpointer starts the log over once it passes 16 MiB
	// (store's walRestartBytes), so it stays under that plus the
	// transaction in flight, at most one mail (25 MiB by default, stored
	// raw with its decoded files). A log 16 times that restart length
	// means checkpoints have not kept up for a while (they fail, or a
	// reader pins the log): every reader pays for a long log, and the disk
	// fills. It is well before that and far from what a working
	// checkpointer leaves.
	maxHealthyWAL = 256 << 20
)

// pollState is what /healthz and /metrics read of one mailbox's intake:
// *mailin.Poller.
type pollState interface {
	// LastSuccess is when the mailbox was last polled or idled successfully;
	// the zero time before the first success.
	LastSuccess() time.Time
}

var _ pollState = (*mailin.Poller)(nil)

// healthDB is what /healthz asks of the database: *store.DB.
type healthDB interface {
	// CheckWrite commits a small write, waiting for other writers at most
	// until ctx's deadline.
	CheckWrite(ctx context.Context, at time.Time) error
	// OutboxWaiting counts the mail waiting to be sent at now and tells
	// when the one waiting longest was queued.
	OutboxWaiting(ctx context.Context, now time.Time) (n int, oldest time.Time, err error)
	// Checkpoints tells the length of the write-ahead log and how its
	// checkpoints went.
	checkpointStatser
}

var _ healthDB = (*store.DB)(nil)

// healthLimits say when /healthz calls the desk unhealthy.
type healthLimits struct {
	// stale: a mailbox not polled or idled successfully for longer (see
	// staleAfter).
	stale time.Duration
	// outboxAge: mail waiting to be sent for longer; 0 = defaultOutboxAge.
	outboxAge time.Duration
}

// pollStates gives newHTTPHandler the pollers of the configured mailboxes,
// by name.
func pollStates(pollers map[string]*mailin.Poller) map[string]pollState {
	out := make(map[string]pollState, len(pollers))
	for name, p := range pollers {
		out[name] = p
	}
	return out
}

// staleAfter is how long a mailbox may go without a successful poll before
// /healthz calls it unhealthy: three times the longest poll interval (an
// IDLE lasts up to one interval, and the poll after it takes time too), and
// at least minStale.
func staleAfter(mailboxes []config.MailboxConfig) time.Duration {
	d := minStale
	for _, m := range mailboxes {
		d = max(d, 3*m.PollInterval.Duration)
	}
	return d
}

// health serves /healthz. It is healthy when
//   - the database takes a write within writeCheckTimeout (a real commit,
//     not a query, which answers from a locked or full database too);
//   - every mailbox has been polled or idled successfully within
//     limits.stale; one that has not succeeded yet is given limits.stale
//     from the handler's creation, so that a daemon starting up does not
//     flap;
//   - no mail has waited to be sent (due, or tried and waiting for its next
//     try) for longer than limits.outboxAge since it was queued;
//   - the write-ahead log is at most maxHealthyWAL long.
type health struct {
	db        healthDB
	mailboxes map[string]pollState
	now       func() time.Time
	limits    healthLimits
	started   time.Time

	mu        sync.Mutex // one write check at a time
	checkedAt time.Time  // when the last write check ended
	writeErr  error      // and its result
}

func newHealth(db healthDB, mailboxes map[string]pollState, now func() time.Time, limits healthLimits) *health {
	if limits.outboxAge <= 0 {
		limits.outboxAge = defaultOutboxAge
	}
	return &health{db: db, mailboxes: mailboxes, now: now, limits: limits, started: now()}
}

// healthReport is the body of /healthz.
type healthReport struct {
	Status  string   `json:"status"` // "ok" or "unhealthy"
	Reasons []string `json:"reasons,omitempty"`
}

func (h *health) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	report, code := healthReport{Status: "ok"}, http.StatusOK
	if reasons := h.check(r.Context()); len(reasons) > 0 {
		report, code = healthReport{Status: "unhealthy", Reasons: reasons}, http.StatusServiceUnavailable
	}
	body, _ := json.Marshal(report) // strings only: cannot fail
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	w.Write(append(body, '\n'))
}

// check returns what is wrong: the database, then mailboxes by name, then
// the outbox; nothing when healthy.
func (h *health) check(ctx context.Context) []string {
	var reasons []string
	if err := h.checkWrite(ctx); err != nil {
		reasons = append(reasons, "database: "+err.Error())
	}
	if reason := walReason(h.db.Checkpoints(), h.now()); reason != "" {
		reasons = append(reasons, reason)
	}
	now := h.now()
	for _, name := range slices.Sorted(maps.Keys(h.mailboxes)) {
		last := h.mailboxes[name].LastSuccess()
		switch {
		case last.IsZero() && now.Sub(h.started) > h.limits.stale:
			reasons = append(reasons, fmt.Sprintf("mailbox %s: no successful poll since the start %s ago", name, ago(now.Sub(h.started))))
		case !last.IsZero() && now.Sub(last) > h.limits.stale:
			reasons = append(reasons, fmt.Sprintf("mailbox %s: last successful poll %s ago", name, ago(now.Sub(last))))
		}
	}
	if reason := h.checkOutbox(ctx, now); reason != "" {
		reasons = append(reasons, reason)
	}
	return reasons
}

// checkWrite runs the database's write check, at most once every
// writeCheckEvery: requests meanwhile, and those that waited for a check
// in progress, get its result.
func (h *health) checkWrite(ctx context.Context) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if now := h.now(); !h.checkedAt.IsZero() && !now.Before(h.checkedAt) && now.Sub(h.checkedAt) < writeCheckEvery {
		return h.writeErr
	}
	ctx, cancel := context.WithTimeout(ctx, writeCheckTimeout)
	defer cancel()
	h.writeErr = h.db.CheckWrite(ctx, h.now())
	h.checkedAt = h.now()
	return h.writeErr
}

// checkOutbox says what is wrong with the outbox at now: mail waiting
// longer than limits.outboxAge, or an outbox that cannot be read; "" when
// nothing is.
func (h *health) checkOutbox(ctx context.Context, now time.Time) string {
	n, oldest, err := h.db.OutboxWaiting(ctx, now)
	switch {
	case err != nil:
		return "outbox: " + err.Error()
	case n == 0 || now.Sub(oldest) <= h.limits.outboxAge:
		return ""
	}
	mails := "mail waits"
	if n > 1 {
		mails = "mails wait"
	}
	return fmt.Sprintf("outbox: %d %s to be sent, the oldest queued %s ago (health_outbox_age %s)",
		n, mails, ago(now.Sub(oldest)), ago(h.limits.outboxAge))
}

// walReason says what is wrong with the write-ahead log when it is longer
// than maxHealthyWAL, with the last checkpoint error if no checkpoint has
// succeeded since; "" when nothing is.
func walReason(s store.CheckpointStats, now time.Time) string {
	if s.WALBytes <= maxHealthyWAL {
		return ""
	}
	reason := fmt.Sprintf("database: write-ahead log of %d MiB, over %d MiB", s.WALBytes>>20, maxHealthyWAL>>20)
	switch {
	case s.LastError != nil && !s.LastFailure.Before(s.LastSuccess):
		reason += fmt.Sprintf(": checkpoints failing, the last %s ago: %v", ago(now.Sub(s.LastFailure)), s.LastError)
	case s.LastSuccess.IsZero():
		reason += ": no checkpoint has succeeded since the start"
	default:
		reason += fmt.Sprintf(": the last checkpoint %s ago did not shorten it", ago(now.Sub(s.LastSuccess)))
	}
	return reason
}

// ago writes d for people: "42s", "7m", "2h5m".
func ago(d time.Duration) string {
	switch {
	case d < time.Minute:
		return d.Round(time.Second).String()
	case d < time.Hour:
		return fmt.Sprintf("%dm", d/time.Minute)
	default:
		return fmt.Sprintf("%dh%dm", d/time.Hour, d%time.Hour/time.Minute)
	}
}
