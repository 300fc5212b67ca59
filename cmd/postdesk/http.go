package main

// The daemon's HTTP listener ([http] listen): thin handlers only.
//
//	GET /healthz   200 {"status":"ok"}, or 503 {"status":"unhealthy","reasons":[...]}
//	GET /metrics   Prometheus metrics (metrics.go), to loopback clients only
//	               unless [http] metrics_public is set (403 otherwise)
//
// Other paths are 404, other methods 405 (HEAD is answered like GET).

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/postdesk/postdesk/mailin"
)

const (
	// pingTimeout bounds the database check of /healthz.
	pingTimeout = 2 * time.Second
	// minStale is the shortest time without a successful poll after which
	// a mailbox is unhealthy (staleAfter).
	minStale = 2 * time.Minute
	// shutdownTimeout bounds the wait for requests in progress at shutdown.
	shutdownTimeout = 5 * time.Second
)

// pollState is what /healthz and /metrics read of one mailbox's intake:
// *mailin.Poller.
type pollState interface {
	// LastSuccess is when the mailbox was last polled or idled successfully;
	// the zero time before the first success.
	LastSuccess() time.Time
}

var _ pollState = (*mailin.Poller)(nil)

// pinger is what /healthz asks of the database: *store.DB.
type pinger interface {
	Ping(ctx context.Context) error
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
func staleAfter(mailboxes []MailboxConfig) time.Duration {
	d := minStale
	for _, m := range mailboxes {
		d = max(d, 3*m.PollInterval.Duration)
	}
	return d
}

// newHTTPHandler returns the handler of the daemon's HTTP listener. db is
// pinged by /healthz; mailboxes are the intake loops by mailbox name (see
// pollStates), checked by /healthz and reported by m, which serves
// /metrics: to every client when metricsPublic, else to loopback ones
// only (loopbackOnly); now is the clock (nil = time.Now).
//
// /healthz is healthy when the database answers within pingTimeout and
// every mailbox has been polled or idled successfully within stale (see
// staleAfter). A mailbox that has not succeeded yet is given stale from
// the handler's creation before it counts as unhealthy, so that a daemon
// starting up does not flap.
func newHTTPHandler(db pinger, mailboxes map[string]pollState, m *metrics, now func() time.Time, stale time.Duration, metricsPublic bool) *http.ServeMux {
	if now == nil {
		now = time.Now
	}
	m.watchMailboxes(mailboxes)
	h := &health{db: db, mailboxes: mailboxes, now: now, stale: stale, started: now()}
	mux := http.NewServeMux()
	mux.Handle("GET /healthz", h)
	metrics := m.handler()
	if !metricsPublic {
		metrics = loopbackOnly(metrics)
	}
	mux.Handle("GET /metrics", metrics)
	return mux
}

// loopbackOnly serves h to clients connected from a loopback address
// (DESIGN §14) and refuses the others with 403. A request carrying a
// proxy's header (Forwarded, X-Forwarded-For, X-Real-IP) is refused too:
// a reverse proxy on the same host connects from loopback for clients
// that are anywhere.
func loopbackOnly(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		ip := net.ParseIP(host)
		proxied := r.Header.Get("Forwarded") != "" || r.Header.Get("X-Forwarded-For") != "" || r.Header.Get("X-Real-IP") != ""
		if err != nil || ip == nil || !ip.IsLoopback() || proxied {
			http.Error(w, "/metrics answers loopback clients only; see [http] metrics_public", http.StatusForbidden)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// health serves /healthz.
type health struct {
	db        pinger
	mailboxes map[string]pollState
	now       func() time.Time
	stale     time.Duration
	started   time.Time
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

// check returns what is wrong, mailboxes by name; nothing when healthy.
func (h *health) check(ctx context.Context) []string {
	var reasons []string
	ctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	if err := h.db.Ping(ctx); err != nil {
		reasons = append(reasons, "database: "+err.Error())
	}
	now := h.now()
	for _, name := range slices.Sorted(maps.Keys(h.mailboxes)) {
		last := h.mailboxes[name].LastSuccess()
		switch {
		case last.IsZero() && now.Sub(h.started) > h.stale:
			reasons = append(reasons, fmt.Sprintf("mailbox %s: no successful poll since the start %s ago", name, ago(now.Sub(h.started))))
		case !last.IsZero() && now.Sub(last) > h.stale:
			reasons = append(reasons, fmt.Sprintf("mailbox %s: last successful poll %s ago", name, ago(now.Sub(last))))
		}
	}
	return reasons
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

// serveHTTP listens on listen (host:port; port 0 picks one) and serves h
// until ctx ends, then shuts down: requests in progress get shutdownTimeout
// to finish. It returns the address it listens on and wait, which blocks
// until the server has stopped and returns why it stopped early, if it did
// (nil after a shutdown). The caller must call wait. An empty listen is an
// error ([http] listen = "" means no listener: do not call serveHTTP).
func serveHTTP(ctx context.Context, listen string, h http.Handler, log *slog.Logger) (addr string, wait func() error, err error) {
	if listen == "" {
		return "", nil, errors.New("http: no listen address")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", listen)
	if err != nil {
		return "", nil, fmt.Errorf("http: %w", err)
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() {
		defer func() {
			if v := recover(); v != nil {
				served <- fmt.Errorf("http: serve panicked: %v", v)
			}
		}()
		served <- srv.Serve(ln)
	}()
	stopped := make(chan error, 1)
	go func() { stopped <- stopHTTP(ctx, srv, served, log) }()
	addr = ln.Addr().String()
	log.Info("http listening", "addr", addr)
	return addr, sync.OnceValue(func() error { return <-stopped }), nil
}

// stopHTTP waits for ctx to end and shuts srv down, or for srv to fail on
// its own; served is the result of srv.Serve.
func stopHTTP(ctx context.Context, srv *http.Server, served <-chan error, log *slog.Logger) error {
	select {
	case err := <-served:
		log.Error("http server stopped", "err", err)
		return fmt.Errorf("http: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("http requests cut off at shutdown", "err", err)
		srv.Close()
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("http: %w", err)
	}
	log.Info("http stopped")
	return nil
}
