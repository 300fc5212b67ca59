package main

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/postdesk/postdesk/mailin"
)

func TestHealthz(t *testing.T) {
	const stale = 3 * time.Minute
	tests := []struct {
		name      string
		mailboxes map[string]pollState
		advance   time.Duration // how long the daemon has been up
		closeDB   bool
		code      int
		want      healthReport
	}{{
		name: "database answers and every mailbox polled recently",
		mailboxes: map[string]pollState{
			"support": fakePoll{httpT0.Add(-30 * time.Second)},
			"billing": fakePoll{httpT0.Add(-stale)},
		},
		code: http.StatusOK,
		want: healthReport{Status: "ok"},
	}, {
		name: "a mailbox not polled for longer than stale is named",
		mailboxes: map[string]pollState{
			"support": fakePoll{httpT0.Add(-7 * time.Minute)},
			"billing": fakePoll{httpT0.Add(-30 * time.Second)},
		},
		code: http.StatusServiceUnavailable,
		want: healthReport{Status: "unhealthy", Reasons: []string{"mailbox support: last successful poll 7m ago"}},
	}, {
		name:      "a mailbox not polled yet is healthy while the daemon starts",
		mailboxes: map[string]pollState{"support": fakePoll{}},
		advance:   stale,
		code:      http.StatusOK,
		want:      healthReport{Status: "ok"},
	}, {
		name:      "a mailbox not polled since a start longer ago than stale is unhealthy",
		mailboxes: map[string]pollState{"support": fakePoll{}, "billing": fakePoll{httpT0.Add(-8 * time.Minute)}},
		advance:   stale + time.Minute,
		code:      http.StatusServiceUnavailable,
		want: healthReport{Status: "unhealthy", Reasons: []string{
			"mailbox billing: last successful poll 12m ago",
			"mailbox support: no successful poll since the start 4m ago",
		}},
	}, {
		name:      "a closed database is unhealthy",
		mailboxes: map[string]pollState{"support": fakePoll{httpT0}},
		closeDB:   true,
		code:      http.StatusServiceUnavailable,
		want: healthReport{Status: "unhealthy", Reasons: []string{"database: write check: sql: database is closed",
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
			var got healthReport
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
	f := startHTTP(t, map[string]pollState{"support": fakePoll{httpT0}}, time.Minute)
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
func healthOf(t *testing.T, url string) (int, healthReport) {
	t.Helper()
	code, body, _ := do(t, http.MethodGet, url+"/healthz")
	var got healthReport
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
	f := startHTTPLimits(t, nil, healthLimits{stale: time.Hour})
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
	f.clock.Advance(writeCheckEvery) // past the last check's result
	code, got := healthOf(t, f.url)
	if code != http.StatusServiceUnavailable || len(got.Reasons) != 1 ||
		!strings.HasPrefix(got.Reasons[0], "database: write check: ") || !strings.Contains(got.Reasons[0], "locked") {
		t.Errorf("while locked: %d %+v, want 503 with one reason naming the locked database", code, got)
	}
	if err := lock.Rollback(); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(writeCheckEvery)
	if code, got := healthOf(t, f.url); code != http.StatusOK {
		t.Errorf("after the lock: %d %+v, want 200", code, got)
	}
}

// TestHealthzOutboxAge: a mail waiting longer than health_outbox_age makes
// /healthz 503 naming the outbox; once it is sent, 200.
func TestHealthzOutboxAge(t *testing.T) {
	e := newEnv(t)
	cfg, err := LoadConfig(e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	clock := &testClock{now: httpT0}
	a, err := openApp(t.Context(), cfg, appOptions{now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	srv := httptest.NewServer(newHTTPHandler(a.db, nil, a.metrics, clock.Now,
		healthLimits{stale: time.Hour, outboxAge: 10 * time.Minute}, false))
	defer srv.Close()

	raw, err := os.ReadFile("testdata/new.eml")
	if err != nil {
		t.Fatal(err)
	}
	in, err := a.intake("")
	if err != nil {
		t.Fatal(err)
	}
	if res, err := in.Process(t.Context(), raw, mailin.Source{}); err != nil || res.Case != 1 {
		t.Fatalf("Process = %+v, %v; want case 1", res, err)
	}
	clock.Advance(10 * time.Minute)
	if code, got := healthOf(t, srv.URL); code != http.StatusOK {
		t.Errorf("mail waiting exactly health_outbox_age: %d %+v, want 200", code, got)
	}
	clock.Advance(time.Minute)
	want := healthReport{Status: "unhealthy", Reasons: []string{
		"outbox: 2 mails wait to be sent, the oldest queued 11m ago (health_outbox_age 10m)"}}
	if code, got := healthOf(t, srv.URL); code != http.StatusServiceUnavailable || !reflect.DeepEqual(got, want) {
		t.Errorf("mail waiting 11m: %d %+v, want 503 %+v", code, got, want)
	}
	if st, err := a.sender.Flush(t.Context()); err != nil || st.Sent != 2 {
		t.Fatalf("Flush = %+v, %v; want the confirmation and the contacts' mail sent", st, err)
	}
	if code, got := healthOf(t, srv.URL); code != http.StatusOK {
		t.Errorf("after sending: %d %+v, want 200", code, got)
	}
}
