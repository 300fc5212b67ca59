package main

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/postdesk/postdesk/config"
	"github.com/postdesk/postdesk/web"
)

// metricsAccessApp is the daemon's handler as serve builds it, survey
// links included, over a real database.
func metricsAccessApp(t *testing.T, public bool) http.Handler {
	t.Helper()
	dir := t.TempDir()
	cfg := config.DefaultConfig()
	cfg.Desk.Address = "support@example.com"
	cfg.Desk.Database, cfg.Desk.SecretFile = filepath.Join(dir, "postdesk.db"), filepath.Join(dir, "postdesk.key")
	a, err := openApp(t.Context(), cfg, appOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return web.SurveyRoutes(web.NewHandler(web.Options{DB: a.db, Metrics: a.metrics, Limits: web.Limits{Stale: time.Hour}, MetricsPublic: public}), a.desk, a.log)
}

func TestMetricsOnLoopbackOnly(t *testing.T) {
	tests := []struct {
		name   string
		public bool
		remote string
		path   string
		header string // a proxy's header, set to a client's address
		want   int
	}{
		{"metrics to 127.0.0.1", false, "127.0.0.1:40000", "/metrics", "", http.StatusOK},
		{"metrics to another loopback address", false, "127.9.8.7:40000", "/metrics", "", http.StatusOK},
		{"metrics to ::1", false, "[::1]:40000", "/metrics", "", http.StatusOK},
		{"metrics refused to a remote client", false, "192.0.2.10:40000", "/metrics", "", http.StatusForbidden},
		{"metrics refused to an IPv4-mapped remote client", false, "[::ffff:192.0.2.10]:40000", "/metrics", "", http.StatusForbidden},
		{"metrics refused through a proxy on loopback", false, "127.0.0.1:40000", "/metrics", "X-Forwarded-For", http.StatusForbidden},
		{"metrics refused through a proxy using Forwarded", false, "127.0.0.1:40000", "/metrics", "Forwarded", http.StatusForbidden},
		{"metrics_public serves a remote client", true, "192.0.2.10:40000", "/metrics", "", http.StatusOK},
		{"health stays open to a remote client", false, "192.0.2.10:40000", "/healthz", "", http.StatusOK},
		// An unknown token: the page answers, not the loopback guard.
		{"survey links stay public", false, "192.0.2.10:40000", "/survey/not-a-token", "", http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := metricsAccessApp(t, tt.public)
			req := httptest.NewRequestWithContext(t.Context(), http.MethodGet, tt.path, nil)
			req.RemoteAddr = tt.remote
			if tt.header != "" {
				req.Header.Set(tt.header, "for=198.51.100.1")
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.want {
				t.Fatalf("GET %s from %s = %d %q, want %d", tt.path, tt.remote, rec.Code, rec.Body, tt.want)
			}
		})
	}
}

// The same over real connections: the listener on every address, reached
// through loopback and through this host's other address.
func TestMetricsOnLoopbackOnlyOverTCP(t *testing.T) {
	other := nonLoopbackAddr(t)
	for _, public := range []bool{false, true} {
		ctx, cancel := context.WithCancel(t.Context())
		addr, wait, err := web.Serve(ctx, net.JoinHostPort("", "0"), metricsAccessApp(t, public), nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, port, _ := net.SplitHostPort(addr)
		remote := http.StatusForbidden
		if public {
			remote = http.StatusOK
		}
		for host, want := range map[string]int{"127.0.0.1": http.StatusOK, other: remote} {
			if code, body, _ := do(t, http.MethodGet, "http://"+net.JoinHostPort(host, port)+"/metrics"); code != want {
				t.Errorf("metrics_public = %v: /metrics through %s = %d %.80q, want %d", public, host, code, body, want)
			}
		}
		cancel()
		if err := wait(); err != nil {
			t.Fatal(err)
		}
	}
}

// nonLoopbackAddr is an IPv4 address of this host other than loopback;
// the test is skipped on a host without one.
func nonLoopbackAddr(t *testing.T) string {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
			return n.IP.String()
		}
	}
	t.Skip("this host has no address but loopback to connect from")
	return ""
}
