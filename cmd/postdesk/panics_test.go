package main

import (
	"context"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/postdesk/postdesk/desk"
	"github.com/postdesk/postdesk/mailin"
	"github.com/postdesk/postdesk/web"
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
	f := newIntakeFixture(t, ctx, func(d *desk.Desk) mailin.Receiver { return panickyDesk{d} })
	imapSrv, a, m, poller := f.imap, f.app, f.metrics, f.poller
	srv := httptest.NewServer(web.NewHandler(web.Options{DB: a.db, Metrics: m, Limits: web.Limits{Stale: time.Hour}}))
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
