package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/postdesk/postdesk/desk"
	"github.com/postdesk/postdesk/internal/httpcheck"
	"github.com/postdesk/postdesk/internal/testclock"
	"github.com/postdesk/postdesk/store"
)

// The shared HTTP test helpers (internal/httpcheck).
var (
	httpT0      = testclock.T0
	do          = httpcheck.Do
	scrape      = httpcheck.Scrape
	checkSeries = httpcheck.CheckSeries
)

// fakePoll is a mailbox whose last successful poll is set by the test: the
// one fault (a mailbox silent for minutes) a test cannot provoke quickly.
type fakePoll struct{ last time.Time }

func (f fakePoll) LastSuccess() time.Time { return f.last }

// httpFixture is the daemon's HTTP handler on a real listener, over a real
// database.
type httpFixture struct {
	path  string // the database file
	db    *store.DB
	clock *testclock.Clock
	m     *Metrics
	url   string
}

func startHTTP(t *testing.T, mailboxes map[string]PollState, stale time.Duration) *httpFixture {
	t.Helper()
	return startHTTPLimits(t, mailboxes, Limits{Stale: stale})
}

// startHTTPLimits is startHTTP with all of /healthz's limits.
func startHTTPLimits(t *testing.T, mailboxes map[string]PollState, limits Limits) *httpFixture {
	t.Helper()
	path := filepath.Join(t.TempDir(), "postdesk.db")
	db, err := store.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	clock := testclock.Start(httpT0)
	m := NewMetrics(db, clock.Now, nil)
	srv := httptest.NewServer(NewHandler(Options{DB: db, Mailboxes: mailboxes, Metrics: m, Now: clock.Now, Limits: limits}))
	t.Cleanup(srv.Close)
	return &httpFixture{path: path, db: db, clock: clock, m: m, url: srv.URL}
}

func TestHTTPRoutes(t *testing.T) {
	f := startHTTP(t, map[string]PollState{"support": fakePoll{httpT0}}, time.Minute)
	tests := []struct {
		name, method, path string
		code               int
	}{
		{"healthz answers GET", http.MethodGet, "/healthz", http.StatusOK},
		{"healthz answers HEAD like GET", http.MethodHead, "/healthz", http.StatusOK},
		{"metrics answers GET", http.MethodGet, "/metrics", http.StatusOK},
		{"healthz refuses POST", http.MethodPost, "/healthz", http.StatusMethodNotAllowed},
		{"metrics refuses DELETE", http.MethodDelete, "/metrics", http.StatusMethodNotAllowed},
		{"an unknown path is not found", http.MethodGet, "/admin", http.StatusNotFound},
		{"the root is not found", http.MethodGet, "/", http.StatusNotFound},
		{"healthz is one path, not a tree", http.MethodGet, "/healthz/x", http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, header := do(t, tt.method, f.url+tt.path)
			if code != tt.code {
				t.Errorf("%s %s = %d, want %d", tt.method, tt.path, code, tt.code)
			}
			if code == http.StatusMethodNotAllowed && !strings.Contains(header.Get("Allow"), "GET") {
				t.Errorf("Allow %q, want GET in it", header.Get("Allow"))
			}
		})
	}
}

func TestMetrics(t *testing.T) {
	lastPoll := httpT0.Add(-42 * time.Second)
	f := startHTTP(t, map[string]PollState{"support": fakePoll{lastPoll}, "billing": fakePoll{}}, time.Minute)
	ctx := t.Context()
	enqueue := func(created time.Time, id string) int64 {
		it := &store.OutboxItem{Kind: store.MailConfirmation, To: []string{"alice@acme.example"},
			MessageID: id, CreatedAt: created}
		if err := f.db.Tx(ctx, func(tx *store.Tx) error { return tx.Enqueue(it) }); err != nil {
			t.Fatal(err)
		}
		return it.ID
	}
	sent := enqueue(httpT0.Add(-time.Hour), "sent@example.com")
	if err := f.db.MarkSent(ctx, sent, []byte("x"), httpT0); err != nil {
		t.Fatal(err)
	}
	enqueue(httpT0.Add(-90*time.Second), "old@example.com")
	enqueue(httpT0.Add(-10*time.Second), "new@example.com")

	f.m.Processed("support", desk.NewCase, 15*time.Millisecond)
	f.m.Processed("support", desk.NewCase, 30*time.Millisecond)
	f.m.Processed("support", desk.Quarantined, time.Second)
	f.m.Reconnected("support")
	f.m.Sent(store.MailConfirmation)
	f.m.Failed(store.MailReply, false)
	f.m.Failed(store.MailReply, true)

	values, types := scrape(t, f.url)
	checkSeries(t, values, map[string]float64{
		`postdesk_mails_total{mailbox="support",outcome="new_case"}`:      2,
		`postdesk_mails_total{mailbox="support",outcome="quarantined"}`:   1,
		`postdesk_mails_total{mailbox="support",outcome="reply"}`:         0,
		`postdesk_mails_total{mailbox="billing",outcome="new_case"}`:      0,
		`postdesk_processing_seconds_count{mailbox="support"}`:            3,
		`postdesk_processing_seconds_bucket{mailbox="support",le="0.02"}`: 1,
		`postdesk_processing_seconds_bucket{mailbox="support",le="+Inf"}`: 3,
		`postdesk_processing_seconds_count{mailbox="billing"}`:            0,
		`postdesk_imap_reconnects_total{mailbox="support"}`:               1,
		`postdesk_imap_reconnects_total{mailbox="billing"}`:               0,
		`postdesk_send_total{kind="confirmation",result="sent"}`:          1,
		`postdesk_send_total{kind="reply",result="retry"}`:                1,
		`postdesk_send_total{kind="reply",result="failed"}`:               1,
		`postdesk_send_total{kind="alert",result="failed"}`:               0,
		`postdesk_outbox_queued`:                                          2,
		`postdesk_outbox_oldest_age_seconds`:                              90,
		`postdesk_last_poll_timestamp_seconds{mailbox="support"}`:         float64(lastPoll.Unix()),
		`postdesk_last_poll_timestamp_seconds{mailbox="billing"}`:         0,
		`promhttp_metric_handler_errors_total{cause="gathering"}`:         0,
	})
	for name, want := range map[string]string{
		"postdesk_mails_total":                 "counter",
		"postdesk_processing_seconds":          "histogram",
		"postdesk_send_total":                  "counter",
		"postdesk_imap_reconnects_total":       "counter",
		"postdesk_outbox_queued":               "gauge",
		"postdesk_outbox_oldest_age_seconds":   "gauge",
		"postdesk_last_poll_timestamp_seconds": "gauge",
	} {
		if types[name] != want {
			t.Errorf("type of %s = %q, want %q", name, types[name], want)
		}
	}

	t.Run("the outbox age follows the clock", func(t *testing.T) {
		f.clock.Advance(time.Minute)
		values, _ := scrape(t, f.url)
		checkSeries(t, values, map[string]float64{`postdesk_outbox_oldest_age_seconds`: 150})
	})
	t.Run("without a database the counters are still served", func(t *testing.T) {
		f.db.Close()
		values, _ := scrape(t, f.url)
		checkSeries(t, values, map[string]float64{`postdesk_mails_total{mailbox="support",outcome="new_case"}`: 2})
		for _, gone := range []string{"postdesk_outbox_queued", "postdesk_outbox_oldest_age_seconds"} {
			if _, ok := values[gone]; ok {
				t.Errorf("%s is served without a database", gone)
			}
		}
	})
}

func TestMetricsOfAnEmptyOutbox(t *testing.T) {
	f := startHTTP(t, nil, time.Minute)
	values, _ := scrape(t, f.url)
	checkSeries(t, values, map[string]float64{`postdesk_outbox_queued`: 0, `postdesk_outbox_oldest_age_seconds`: 0})
}

func TestServeHTTP(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "postdesk.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	h := NewHandler(Options{DB: db, Mailboxes: map[string]PollState{"support": fakePoll{time.Now()}}, Metrics: NewMetrics(db, nil, nil), Limits: Limits{Stale: time.Hour}})
	serveCtx, stop := context.WithCancel(ctx)
	defer stop()
	addr, wait, err := Serve(serveCtx, "127.0.0.1:0", h, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	get := func() (*http.Response, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/healthz", nil)
		if err != nil {
			t.Fatal(err)
		}
		return client.Do(req)
	}

	resp, err := get()
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /healthz = %d, want 200", resp.StatusCode)
	}

	t.Run("a second listener on the same address fails at once", func(t *testing.T) {
		if _, _, err := Serve(serveCtx, addr, h, nil, nil); err == nil {
			t.Error("Serve on a busy address = nil error")
		}
	})
	t.Run("an empty address is refused, not a random port", func(t *testing.T) {
		if _, _, err := Serve(serveCtx, "", h, nil, nil); err == nil {
			t.Error(`Serve("") = nil error`)
		}
	})

	stop()
	if err := wait(); err != nil {
		t.Fatalf("wait after the context ended = %v, want nil", err)
	}
	if err := wait(); err != nil {
		t.Fatalf("a second wait = %v, want nil", err)
	}
	if resp, err := get(); err == nil {
		resp.Body.Close()
		t.Fatal("the server still answers after shutdown")
	}
}

func TestAgo(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{1400 * time.Millisecond, "1s"},
		{42 * time.Second, "42s"},
		{7*time.Minute + 59*time.Second, "7m"},
		{2*time.Hour + 5*time.Minute + 3*time.Second, "2h5m"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := ago(tt.d); got != tt.want {
				t.Errorf("ago(%v) = %q, want %q", tt.d, got, tt.want)
			}
		})
	}
}
