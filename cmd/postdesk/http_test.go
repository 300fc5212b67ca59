package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/postdesk/postdesk/config"
	"github.com/postdesk/postdesk/desk"
	"github.com/postdesk/postdesk/internal/httpcheck"
	"github.com/postdesk/postdesk/internal/memimap"
	"github.com/postdesk/postdesk/internal/smtpsink"
	"github.com/postdesk/postdesk/internal/testclock"
	"github.com/postdesk/postdesk/mailin"
	"github.com/postdesk/postdesk/mailout"
	"github.com/postdesk/postdesk/templates"
	"github.com/postdesk/postdesk/web"
)

// The shared HTTP test helpers (internal/httpcheck).
var (
	httpT0      = testclock.T0
	do          = httpcheck.Do
	scrape      = httpcheck.Scrape
	checkSeries = httpcheck.CheckSeries
)

func TestStaleAfter(t *testing.T) {
	mb := func(intervals ...time.Duration) []config.MailboxConfig {
		var out []config.MailboxConfig
		for i, d := range intervals {
			out = append(out, config.MailboxConfig{Name: fmt.Sprint("m", i), PollInterval: config.Duration{Duration: d}})
		}
		return out
	}
	tests := []struct {
		name      string
		mailboxes []config.MailboxConfig
		want      time.Duration
	}{
		{"no mailbox: the minimum", nil, minStale},
		{"short intervals: the minimum", mb(10 * time.Second), minStale},
		{"three times the default minute", mb(time.Minute), 3 * time.Minute},
		{"three times the longest interval", mb(time.Minute, 5*time.Minute, 30*time.Second), 15 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := staleAfter(tt.mailboxes); got != tt.want {
				t.Errorf("staleAfter = %v, want %v", got, tt.want)
			}
		})
	}
}

// intakeFixture is an app on a temporary database, the in-process IMAP
// server and a Poller on it whose Observer is the metrics, as serve wires
// them; wrap may put something in front of the desk (nil: the desk).
type intakeFixture struct {
	imap    *memimap.Server
	cfg     *config.Config
	app     *app
	metrics *web.Metrics
	poller  *mailin.Poller
}

func newIntakeFixture(t *testing.T, ctx context.Context, wrap func(*desk.Desk) mailin.Receiver) *intakeFixture {
	t.Helper()
	imapSrv, err := memimap.Start("support@example.com", "imap-password", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { imapSrv.Close() })
	dir := t.TempDir()
	cfg := config.DefaultConfig()
	cfg.Desk.Address = "support@example.com"
	cfg.Desk.Database, cfg.Desk.SecretFile = filepath.Join(dir, "postdesk.db"), filepath.Join(dir, "postdesk.key")
	a, err := openApp(ctx, cfg, appOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	var recv mailin.Receiver = a.desk
	if wrap != nil {
		recv = wrap(a.desk)
	}
	m := web.NewMetrics(a.db, nil, nil)
	poller := mailin.NewPoller(mailin.MailboxOptions{
		Name: "support", Addr: imapSrv.Addr(), TLS: "none", Username: "support@example.com",
		Password: "imap-password", Observer: m,
	}, &mailin.Intake{Desk: recv})
	t.Cleanup(func() { poller.Close() })
	return &intakeFixture{imap: imapSrv, cfg: cfg, app: a, metrics: m, poller: poller}
}

// TestHTTPWithRealIntakeAndOutbox wires the handler as serve does: a real
// Poller on the in-process IMAP server and a real Sender on the SMTP sink,
// both with the metrics as their Observer.
func TestHTTPWithRealIntakeAndOutbox(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	f := newIntakeFixture(t, ctx, nil)
	imapSrv, cfg, a, m, poller := f.imap, f.cfg, f.app, f.metrics, f.poller
	sink, err := smtpsink.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()

	tpl, err := templates.New("")
	if err != nil {
		t.Fatal(err)
	}
	sender, err := mailout.New(a.db, mailout.Options{
		From: cfg.Desk.Address, Host: sink.Host(), Port: sink.Port(), TLS: mailout.TLSNone,
		Templates: tpl, Observer: m,
	})
	if err != nil {
		t.Fatal(err)
	}
	h := web.NewHandler(web.Options{DB: a.db, Mailboxes: pollStates(map[string]*mailin.Poller{"support": poller}), Metrics: m, Limits: web.Limits{Stale: time.Hour}})
	srv := httptest.NewServer(h)
	defer srv.Close()

	if code, body, _ := do(t, http.MethodGet, srv.URL+"/healthz"); code != http.StatusOK {
		t.Errorf("healthz before the first poll = %d %s, want 200 (starting)", code, body)
	}
	values, _ := scrape(t, srv.URL)
	checkSeries(t, values, map[string]float64{`postdesk_last_poll_timestamp_seconds{mailbox="support"}`: 0})

	raw, err := os.ReadFile("testdata/new.eml")
	if err != nil {
		t.Fatal(err)
	}
	if err := imapSrv.Append("INBOX", raw); err != nil {
		t.Fatal(err)
	}
	if n, err := poller.PollOnce(ctx); err != nil || n != 1 {
		t.Fatalf("PollOnce = %d, %v; want 1, nil", n, err)
	}
	values, _ = scrape(t, srv.URL)
	checkSeries(t, values, map[string]float64{
		`postdesk_mails_total{mailbox="support",outcome="new_case"}`: 1,
		`postdesk_processing_seconds_count{mailbox="support"}`:       1,
		`postdesk_outbox_queued`:                                     2, // the confirmation, the contacts' mail
	})
	if ts := values[`postdesk_last_poll_timestamp_seconds{mailbox="support"}`]; ts != float64(poller.LastSuccess().UnixNano())/1e9 {
		t.Errorf("last poll %v, want the poller's LastSuccess %v", ts, poller.LastSuccess())
	}

	if st, err := sender.Flush(ctx); err != nil || st.Sent != 2 {
		t.Fatalf("Flush = %+v, %v; want 2 sent", st, err)
	}
	values, _ = scrape(t, srv.URL)
	checkSeries(t, values, map[string]float64{
		`postdesk_send_total{kind="confirmation",result="sent"}`: 1,
		`postdesk_outbox_queued`:                                 0,
		`postdesk_outbox_oldest_age_seconds`:                     0,
	})
	if code, body, _ := do(t, http.MethodGet, srv.URL+"/healthz"); code != http.StatusOK {
		t.Errorf("healthz after a poll = %d %s, want 200", code, body)
	}
	checkNoPanics(t, values)
	checkSeries(t, values, map[string]float64{`postdesk_checkpoints_total{result="failed"}`: 0})
}
