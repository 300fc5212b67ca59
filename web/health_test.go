package web

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestHealthz(t *testing.T) {
	const stale = 3 * time.Minute
	tests := []struct {
		name      string
		mailboxes map[string]PollState
		advance   time.Duration // how long the daemon has been up
		closeDB   bool
		code      int
		want      HealthReport
	}{{
		name: "database answers and every mailbox polled recently",
		mailboxes: map[string]PollState{
			"support": fakePoll{httpT0.Add(-30 * time.Second)},
			"billing": fakePoll{httpT0.Add(-stale)},
		},
		code: http.StatusOK,
		want: HealthReport{Status: "ok"},
	}, {
		name: "a mailbox not polled for longer than stale is named",
		mailboxes: map[string]PollState{
			"support": fakePoll{httpT0.Add(-7 * time.Minute)},
			"billing": fakePoll{httpT0.Add(-30 * time.Second)},
		},
		code: http.StatusServiceUnavailable,
		want: HealthReport{Status: "unhealthy", Reasons: []string{"mailbox support: last successful poll 7m ago"}},
	}, {
		name:      "a mailbox not polled yet is healthy while the daemon starts",
		mailboxes: map[string]PollState{"support": fakePoll{}},
		advance:   stale,
		code:      http.StatusOK,
		want:      HealthReport{Status: "ok"},
	}, {
		name:      "a mailbox not polled since a start longer ago than stale is unhealthy",
		mailboxes: map[string]PollState{"support": fakePoll{}, "billing": fakePoll{httpT0.Add(-8 * time.Minute)}},
		advance:   stale + time.Minute,
		code:      http.StatusServiceUnavailable,
		want: HealthReport{Status: "unhealthy", Reasons: []string{
			"mailbox billing: last successful poll 12m ago",
			"mailbox support: no successful poll since the start 4m ago",
		}},
	}, {
		name:      "a closed database is unhealthy",
		mailboxes: map[string]PollState{"support": fakePoll{httpT0}},
		closeDB:   true,
		code:      http.StatusServiceUnavailable,
		want: HealthReport{Status: "unhealthy", Reasons: []string{"database: write check: sql: database is closed",
			"outbox: read outbox: sql: database is closed"}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := startHTTP(t, tt.mailboxes, stale)
			f.clock.Advance(tt.advance)
			if tt.closeDB {
				f.db.Close()
			}
			code, body, header := do(t, http.MethodGet, f.url+"/healthz")
			if code != tt.code {
				t.Errorf("status %d, want %d", code, tt.code)
			}
			if ct := header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q, want application/json", ct)
			}
			var got HealthReport
			dec := json.NewDecoder(bytes.NewReader(body))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&got); err != nil {
				t.Fatalf("body %q: %v", body, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("body %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestHealthzBodyIsExactJSON(t *testing.T) {
	f := startHTTP(t, map[string]PollState{"support": fakePoll{httpT0}}, time.Minute)
	if _, body, _ := do(t, http.MethodGet, f.url+"/healthz"); string(body) != `{"status":"ok"}`+"\n" {
		t.Errorf("healthy body %q", body)
	}
	f.clock.Advance(2 * time.Minute)
	want := `{"status":"unhealthy","reasons":["mailbox support: last successful poll 2m ago"]}` + "\n"
	if _, body, _ := do(t, http.MethodGet, f.url+"/healthz"); string(body) != want {
		t.Errorf("unhealthy body %q, want %q", body, want)
	}
}

// healthOf fetches /healthz and decodes it.
func healthOf(t *testing.T, url string) (int, HealthReport) {
	t.Helper()
	code, body, _ := do(t, http.MethodGet, url+"/healthz")
	var got HealthReport
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("/healthz body %q: %v", body, err)
	}
	return code, got
}

// TestHealthzLockedDatabase: while another process holds SQLite's write
// lock (BEGIN IMMEDIATE), /healthz answers 503 naming the database, within
// its check's timeout; once the lock is gone, 200. A check that only read
// (SELECT 1) answered 200 throughout.
func TestHealthzLockedDatabase(t *testing.T) {
	f := startHTTPLimits(t, nil, Limits{Stale: time.Hour})
	if code, got := healthOf(t, f.url); code != http.StatusOK {
		t.Fatalf("before the lock: %d %+v, want 200", code, got)
	}

	other, err := sql.Open("sqlite3", "file:"+f.path+"?_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	lock, err := other.Begin()
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(WriteCheckEvery) // past the last check's result
	code, got := healthOf(t, f.url)
	if code != http.StatusServiceUnavailable || len(got.Reasons) != 1 ||
		!strings.HasPrefix(got.Reasons[0], "database: write check: ") || !strings.Contains(got.Reasons[0], "locked") {
		t.Errorf("while locked: %d %+v, want 503 with one reason naming the locked database", code, got)
	}
	if err := lock.Rollback(); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(WriteCheckEvery)
	if code, got := healthOf(t, f.url); code != http.StatusOK {
		t.Errorf("after the lock: %d %+v, want 200", code, got)
	}
}
