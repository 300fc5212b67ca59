// Package web is the daemon's HTTP listener ([http] listen): /healthz,
// /metrics and the survey links (later the read-only dashboard), thin
// handlers over desk and store. It reads no configuration: cmd/postdesk
// builds its Options.
//
//	GET /healthz          200 {"status":"ok"}, or 503 {"status":"unhealthy","reasons":[...]} (health.go)
//	GET /metrics          Prometheus metrics (metrics.go), to loopback clients only
//	                      unless Options.MetricsPublic is set (403 otherwise)
//	GET|POST /survey/...  the survey links of closing mails (survey.go, SurveyRoutes)
//
// Other paths are 404, other methods 405 (HEAD is answered like GET).
//
// Metrics has the methods of mailin.Observer and mailout.Observer, and
// PollState is what *mailin.Poller has; cmd/postdesk, which wires them,
// checks that they agree, so that web imports neither mailin nor mailout
// (DESIGN §2: web imports desk, store and templates).
package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// shutdownTimeout bounds the wait for requests in progress at shutdown.
const shutdownTimeout = 5 * time.Second

// Options are what NewHandler serves. DB and Metrics are required; the
// zero value of the others is their documented default.
type Options struct {
	// DB is checked by /healthz: *store.DB.
	DB HealthDB
	// Mailboxes are the intake loops by mailbox name, checked by
	// /healthz within Limits and reported on /metrics; nil = none.
	Mailboxes map[string]PollState
	// Metrics serves /metrics.
	Metrics *Metrics
	// Now is the clock; nil = time.Now.
	Now func() time.Time
	// Limits say when /healthz calls the desk unhealthy.
	Limits Limits
	// MetricsPublic serves /metrics to every client ([http]
	// metrics_public); false = to loopback ones only (loopbackOnly).
	MetricsPublic bool
}

// NewHandler returns the handler of the daemon's HTTP listener: /healthz
// and /metrics as o says (add the survey pages with SurveyRoutes).
func NewHandler(o Options) *http.ServeMux {
	now := o.Now
	if now == nil {
		now = time.Now
	}
	o.Metrics.watchMailboxes(o.Mailboxes)
	h := newHealth(o.DB, o.Mailboxes, now, o.Limits)
	mux := http.NewServeMux()
	mux.Handle("GET /healthz", h)
	metrics := o.Metrics.handler()
	if !o.MetricsPublic {
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

// Serve listens on listen (host:port; port 0 picks one) and serves h
// until ctx ends, then shuts down: requests in progress get shutdownTimeout
// to finish. It returns the address it listens on and wait, which blocks
// until the server has stopped and returns why it stopped early, if it did
// (nil after a shutdown). The caller must call wait. An empty listen is an
// error ([http] listen = "" means no listener: do not call Serve). A
// panic of the serving goroutine is told to panicked (nil: nobody) and
// returned by wait.
func Serve(ctx context.Context, listen string, h http.Handler, log *slog.Logger,
	panicked func(where string)) (addr string, wait func() error, err error) {
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
				if panicked != nil {
					panicked(panicHTTP)
				}
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
