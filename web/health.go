package web

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

	"github.com/postdesk/postdesk/store"
)

const (
	// writeCheckTimeout bounds the database's write check.
	writeCheckTimeout = 2 * time.Second
	// WriteCheckEvery is how often at most /healthz writes to the
	// database; requests in between get the last result, so that a flood
	// of requests to the public /healthz does not become a flood of writes.
	WriteCheckEvery = time.Second
	// DefaultOutboxAge is Limits.OutboxAge when it is 0: [http]
	// health_outbox_age's default.
	DefaultOutboxAge = 15 * time.Minute
	// MaxHealthyWAL is the longest write-ahead log /healthz accepts. A
	// working checkpointer starts the log over once it passes 16 MiB
	// (store's walRestartBytes), so it stays under that plus the
	// transaction in flight, at most one mail (25 MiB by default, stored
	// raw with its decoded files). A log 16 times that restart length
	// means checkpoints have not kept up for a while (they fail, or a
	// reader pins the log): every reader pays for a long log, and the disk
	// fills. It is well before that and far from what a working
	// checkpointer leaves.
	MaxHealthyWAL = 256 << 20
)

// PollState is what /healthz and /metrics read of one mailbox's intake:
// *mailin.Poller.
type PollState interface {
	// LastSuccess is when the mailbox was last polled or idled successfully;
	// the zero time before the first success.
	LastSuccess() time.Time
}

// HealthDB is what /healthz asks of the database: *store.DB.
type HealthDB interface {
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

var _ HealthDB = (*store.DB)(nil)

// Limits say when /healthz calls the desk unhealthy.
type Limits struct {
	// Stale: a mailbox not polled or idled successfully for longer
	// (cmd/postdesk derives it from the poll intervals).
	Stale time.Duration
	// OutboxAge: mail waiting to be sent for longer ([http]
	// health_outbox_age); 0 = DefaultOutboxAge.
	OutboxAge time.Duration
}

// health serves /healthz. It is healthy when
//   - the database takes a write within writeCheckTimeout (a real commit,
//     not a query, which answers from a locked or full database too);
//   - every mailbox has been polled or idled successfully within
//     limits.Stale; one that has not succeeded yet is given limits.Stale
//     from the handler's creation, so that a daemon starting up does not
//     flap;
//   - no mail has waited to be sent (due, or tried and waiting for its next
//     try) for longer than limits.OutboxAge since it was queued;
//   - the write-ahead log is at most MaxHealthyWAL long.
type health struct {
	db        HealthDB
	mailboxes map[string]PollState
	now       func() time.Time
	limits    Limits
	started   time.Time

	mu        sync.Mutex // one write check at a time
	checkedAt time.Time  // when the last write check ended
	writeErr  error      // and its result
}

func newHealth(db HealthDB, mailboxes map[string]PollState, now func() time.Time, limits Limits) *health {
	if limits.OutboxAge <= 0 {
		limits.OutboxAge = DefaultOutboxAge
	}
	return &health{db: db, mailboxes: mailboxes, now: now, limits: limits, started: now()}
}

// HealthReport is the body of /healthz.
type HealthReport struct {
	Status  string   `json:"status"` // "ok" or "unhealthy"
	Reasons []string `json:"reasons,omitempty"`
}

func (h *health) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	report, code := HealthReport{Status: "ok"}, http.StatusOK
	if reasons := h.check(r.Context()); len(reasons) > 0 {
		report, code = HealthReport{Status: "unhealthy", Reasons: reasons}, http.StatusServiceUnavailable
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
		case last.IsZero() && now.Sub(h.started) > h.limits.Stale:
			reasons = append(reasons, fmt.Sprintf("mailbox %s: no successful poll since the start %s ago", name, ago(now.Sub(h.started))))
		case !last.IsZero() && now.Sub(last) > h.limits.Stale:
			reasons = append(reasons, fmt.Sprintf("mailbox %s: last successful poll %s ago", name, ago(now.Sub(last))))
		}
	}
	if reason := h.checkOutbox(ctx, now); reason != "" {
		reasons = append(reasons, reason)
	}
	return reasons
}

// checkWrite runs the database's write check, at most once every
// WriteCheckEvery: requests meanwhile, and those that waited for a check
// in progress, get its result.
func (h *health) checkWrite(ctx context.Context) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if now := h.now(); !h.checkedAt.IsZero() && !now.Before(h.checkedAt) && now.Sub(h.checkedAt) < WriteCheckEvery {
		return h.writeErr
	}
	ctx, cancel := context.WithTimeout(ctx, writeCheckTimeout)
	defer cancel()
	h.writeErr = h.db.CheckWrite(ctx, h.now())
	h.checkedAt = h.now()
	return h.writeErr
}

// checkOutbox says what is wrong with the outbox at now: mail waiting
// longer than limits.OutboxAge, or an outbox that cannot be read; "" when
// nothing is.
func (h *health) checkOutbox(ctx context.Context, now time.Time) string {
	n, oldest, err := h.db.OutboxWaiting(ctx, now)
	switch {
	case err != nil:
		return "outbox: " + err.Error()
	case n == 0 || now.Sub(oldest) <= h.limits.OutboxAge:
		return ""
	}
	mails := "mail waits"
	if n > 1 {
		mails = "mails wait"
	}
	return fmt.Sprintf("outbox: %d %s to be sent, the oldest queued %s ago (health_outbox_age %s)",
		n, mails, ago(now.Sub(oldest)), ago(h.limits.OutboxAge))
}

// walReason says what is wrong with the write-ahead log when it is longer
// than MaxHealthyWAL, with the last checkpoint error if no checkpoint has
// succeeded since; "" when nothing is.
func walReason(s store.CheckpointStats, now time.Time) string {
	if s.WALBytes <= MaxHealthyWAL {
		return ""
	}
	reason := fmt.Sprintf("database: write-ahead log of %d MiB, over %d MiB", s.WALBytes>>20, MaxHealthyWAL>>20)
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
