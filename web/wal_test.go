package web

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/postdesk/postdesk/internal/testclock"
	"github.com/postdesk/postdesk/store"
)

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
		{name: "a log at the bound is healthy", stats: store.CheckpointStats{WALBytes: MaxHealthyWAL, Failures: 3,
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
			clock := testclock.Start(httpT0)
			srv := httptest.NewServer(NewHandler(Options{DB: fake, Metrics: NewMetrics(fake, clock.Now, nil), Now: clock.Now, Limits: Limits{Stale: time.Hour}}))
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
