package main

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/postdesk/postdesk/config"
	"github.com/postdesk/postdesk/desk"
	"github.com/postdesk/postdesk/internal/memimap"
	"github.com/postdesk/postdesk/mailin"
	"github.com/postdesk/postdesk/store"
)

// panicSeries sums the postdesk_panics_total series of a scrape and lists
// them; the checkpointer's is always there.
func panicSeries(t *testing.T, values map[string]float64) (total float64, series []string) {
	t.Helper()
	for s, v := range values {
		if strings.HasPrefix(s, "postdesk_panics_total{") {
			total += v
			series = append(series, s)
		}
	}
	if _, ok := values[`postdesk_panics_total{where="store.checkpoint"}`]; !ok {
		t.Errorf("postdesk_panics_total{where=\"store.checkpoint\"} is missing")
	}
	return total, series
}

// checkNoPanics fails the test if a scrape counts a recovered panic: one
// is a bug whose error was logged and the run went on.
func checkNoPanics(t *testing.T, values map[string]float64) {
	t.Helper()
	if total, series := panicSeries(t, values); total != 0 {
		for _, s := range series {
			t.Errorf("%s = %v, want 0", s, values[s])
		}
	}
}

// panickyDesk is a desk whose Receive panics: a bug in the desk.
type panickyDesk struct{ *desk.Desk }

func (panickyDesk) Receive(context.Context, *desk.Inbound) (desk.Result, error) {
	panic("injected: a bug in the desk")
}

// TestPanicIsCounted has the desk panic on a mail, as a bug would: the
// poller logs it, the mail stays for a later attempt, and
// postdesk_panics_total{where="mailin.record"} moves by exactly 1.
func TestPanicIsCounted(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	imapSrv, err := memimap.Start("support@example.com", "imap-password", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer imapSrv.Close()
	dir := t.TempDir()
	cfg := config.DefaultConfig()
	cfg.Desk.Address = "support@example.com"
	cfg.Desk.Database, cfg.Desk.SecretFile = filepath.Join(dir, "postdesk.db"), filepath.Join(dir, "postdesk.key")
	a, err := openApp(ctx, cfg, appOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	m := newMetrics(a.db, nil, nil)
	poller := mailin.NewPoller(mailin.MailboxOptions{
		Name: "support", Addr: imapSrv.Addr(), TLS: "none", Username: "support@example.com",
		Password: "imap-password", Observer: m,
	}, &mailin.Intake{Desk: panickyDesk{a.desk}})
	defer poller.Close()
	srv := httptest.NewServer(newHTTPHandler(a.db, nil, m, nil, healthLimits{stale: time.Hour}, false))
	defer srv.Close()

	values, _ := scrape(t, srv.URL)
	checkNoPanics(t, values)
	raw, err := os.ReadFile("testdata/new.eml")
	if err != nil {
		t.Fatal(err)
	}
	if err := imapSrv.Append("INBOX", raw); err != nil {
		t.Fatal(err)
	}
	if n, err := poller.PollOnce(ctx); err != nil || n != 0 {
		t.Fatalf("PollOnce = %d, %v; want 0 handled (the attempt failed), nil", n, err)
	}
	values, _ = scrape(t, srv.URL)
	checkSeries(t, values, map[string]float64{`postdesk_panics_total{where="mailin.record"}`: 1})
	if total, series := panicSeries(t, values); total != 1 {
		t.Errorf("panics counted %v in %v, want 1", total, series)
	}
}

// checkpointsOf is a database whose checkpointer reports stats: a stuck
// checkpointer cannot be provoked in a test without breaking the disk.
type checkpointsOf struct {
	*store.DB
	stats store.CheckpointStats
}

func (d checkpointsOf) Checkpoints() store.CheckpointStats { return d.stats }

func TestWALOnHealthzAndMetrics(t *testing.T) {
	failing := store.CheckpointStats{
		Runs: 7, Failures: 40, LastError: errors.New("checkpoint: disk I/O error"),
		LastSuccess: httpT0.Add(-2 * time.Hour), LastFailure: httpT0.Add(-time.Minute), WALBytes: 300 << 20,
	}
	tests := []struct {
		name   string
		stats  store.CheckpointStats
		code   int
		reason string // in the body; "" = none
	}{
		{name: "a log at the bound is healthy", stats: store.CheckpointStats{WALBytes: maxHealthyWAL, Failures: 3,
			LastError: errors.New("busy"), LastFailure: httpT0}, code: http.StatusOK},
		{name: "a long log with failing checkpoints is unhealthy and says why", stats: failing,
			code:   http.StatusServiceUnavailable,
			reason: "database: write-ahead log of 300 MiB, over 256 MiB: checkpoints failing, the last 1m ago: checkpoint: disk I/O error"},
		{name: "a long log no checkpoint shortened is unhealthy", stats: store.CheckpointStats{WALBytes: 1 << 30,
			Runs: 2, LastSuccess: httpT0.Add(-5 * time.Minute)}, code: http.StatusServiceUnavailable,
			reason: "database: write-ahead log of 1024 MiB, over 256 MiB: the last checkpoint 5m ago did not shorten it"},
		{name: "a long log never checkpointed is unhealthy", stats: store.CheckpointStats{WALBytes: 1 << 30},
			code: http.StatusServiceUnavailable, reason: "no checkpoint has succeeded since the start"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, err := store.Open(t.Context(), filepath.Join(t.TempDir(), "postdesk.db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			fake := checkpointsOf{DB: db, stats: tt.stats}
			clock := &testClock{now: httpT0}
			srv := httptest.NewServer(newHTTPHandler(fake, nil, newMetrics(fake, clock.Now, nil), clock.Now,
				healthLimits{stale: time.Hour}, false))
			t.Cleanup(srv.Close)

			code, body, _ := do(t, http.MethodGet, srv.URL+"/healthz")
			if code != tt.code || (tt.reason != "" && !strings.Contains(string(body), tt.reason)) {
				t.Errorf("/healthz = %d %s; want %d with %q", code, body, tt.code, tt.reason)
			}
			last := 0.0
			if !tt.stats.LastSuccess.IsZero() {
				last = float64(tt.stats.LastSuccess.Unix())
			}
			values, types := scrape(t, srv.URL)
			checkSeries(t, values, map[string]float64{
				`postdesk_wal_bytes`:                                 float64(tt.stats.WALBytes),
				`postdesk_checkpoints_total{result="ok"}`:            float64(tt.stats.Runs),
				`postdesk_checkpoints_total{result="failed"}`:        float64(tt.stats.Failures),
				`postdesk_checkpoint_last_success_timestamp_seconds`: last,
			})
			if types["postdesk_checkpoints_total"] != "counter" || types["postdesk_wal_bytes"] != "gauge" {
				t.Errorf("types %q, %q; want counter, gauge", types["postdesk_checkpoints_total"], types["postdesk_wal_bytes"])
			}
		})
	}
}
