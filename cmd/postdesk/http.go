package main

// The daemon's HTTP listener ([http] listen): thin handlers only.
//
//	GET /healthz   200 {"status":"ok"}, or 503 {"status":"unhealthy","reasons":[...]} (health.go)
//	GET /metrics   Prometheus metrics (metrics.go), to loopback clients only
//	               unless [http] metrics_public is set (403 otherwise)
//
// Other paths are 404, other methods 405 (HEAD is answered like GET).

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

// newHTTPHandler returns the handler of the daemon's HTTP listener. db is
// checked by /healthz (health.go); mailboxes are the intake loops by
// mailbox name (see pollStates), checked by /healthz within limits and
// reported by m, which serves /metrics: to every client when
// metricsPublic, else to loopback ones only (loopbackOnly); now is the
// clock (nil = time.Now).
func newHTTPHandler(db healthDB, mailboxes map[string]pollState, m *metrics, now func() time.Time, limits healthLimits, metricsPublic bool) *http.ServeMux {
	if now == nil {
		now = time.Now
	}
	m.watchMailboxes(mailboxes)
	h := newHealth(db, mailboxes, now, limits)
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

// serveHTTP listens on listen (host:port; port 0 picks one) and serves h
// until ctx ends, then shuts down: requests in progress get shutdownTimeout
// to finish. It returns the address it listens on and wait, which blocks
// until the server has stopped and returns why it stopped early, if it did
// (nil after a shutdown). The caller must call wait. An empty listen is an
// error ([http] listen = "" means no listener: do not call serveHTTP). A
// panic of the serving goroutine is told to panicked (nil: nobody) and
// returned by wait.
func serveHTTP(ctx context.Context, listen string, h http.Handler, log *slog.Logger,
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
