package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/postdesk/postdesk/internal/testclock"
	"github.com/postdesk/postdesk/mailin"
	"github.com/postdesk/postdesk/web"
)

// healthOf fetches /healthz and decodes it.
func healthOf(t *testing.T, url string) (int, web.HealthReport) {
	t.Helper()
	code, body, _ := do(t, http.MethodGet, url+"/healthz")
	var got web.HealthReport
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("/healthz body %q: %v", body, err)
	}
	return code, got
}

// TestHealthzOutboxAge: a mail waiting longer than health_outbox_age makes
// /healthz 503 naming the outbox; once it is sent, 200.
func TestHealthzOutboxAge(t *testing.T) {
	e := newEnv(t)
	cfg, err := LoadConfig(e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	clock := testclock.Start(httpT0)
	a, err := openApp(t.Context(), cfg, appOptions{now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	srv := httptest.NewServer(web.NewHandler(web.Options{DB: a.db, Metrics: a.metrics, Now: clock.Now, Limits: web.Limits{Stale: time.Hour, OutboxAge: 10 * time.Minute}}))
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
	want := web.HealthReport{Status: "unhealthy", Reasons: []string{
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
