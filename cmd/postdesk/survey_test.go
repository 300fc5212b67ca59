package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/postdesk/postdesk/config"
	"github.com/postdesk/postdesk/store"
	"github.com/postdesk/postdesk/web"
)

// surveyServer serves the survey links of e's desk, and returns the
// survey links of case 1's closing mail.
func surveyServer(t *testing.T, e *env) (a *app, cfg *config.Config, srv *httptest.Server, links []string) {
	t.Helper()
	cfg, err := LoadConfig(e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	a, err = openApp(context.Background(), cfg, appOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	srv = httptest.NewServer(web.SurveyRoutes(http.NewServeMux(), a.desk, a.log))
	t.Cleanup(srv.Close)
	items, err := a.db.Outbox(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		if it.Kind == store.MailClosed {
			links = it.Notice.SurveyLinks
		}
	}
	return a, cfg, srv, links
}

// TestSurveyLinkInABrowser follows a closing mail's signed link as a
// browser would: the page shows the rating and a form, posting the form
// records it, and a tampered link is refused.
func TestSurveyLinkInABrowser(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.ingest("testdata/new.eml")
	e.must("", "case", "close", "1", "-resolution", "Opened port 443.")

	a, _, srv, links := surveyServer(t, e)
	if len(links) != 5 || !strings.HasPrefix(links[3], "http://127.0.0.1:8025/survey/") {
		t.Fatalf("closing mail links %v", links)
	}
	path := strings.TrimPrefix(links[3], "http://127.0.0.1:8025")

	resp, err := http.Get(srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "<strong>4</strong>") || !strings.Contains(string(body), "<form") {
		t.Fatalf("GET %d:\n%s", resp.StatusCode, body)
	}
	if c := e.show(1); c.Rating != nil {
		t.Errorf("opening the link recorded rating %d", *c.Rating)
	}

	resp, err = http.PostForm(srv.URL+path, url.Values{"comment": {"<b>quick</b> and clear"}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "Thank you") {
		t.Fatalf("POST %d:\n%s", resp.StatusCode, body)
	}
	c := e.show(1)
	if c.Rating == nil || *c.Rating != 4 || c.Status != "closed" {
		t.Errorf("after the answer: rating %v, status %s", c.Rating, c.Status)
	}
	surveys, _ := a.db.Surveys(ctx, 1)
	if len(surveys) != 1 || surveys[0].Comment != "<b>quick</b> and clear" || surveys[0].Via != "web" {
		t.Errorf("surveys %+v", surveys)
	}

	tampered := strings.Replace(path, ".4.", ".5.", 1)
	for _, p := range []string{tampered, "/survey/garbage", "/survey/" + filepath.Base(path) + "x"} {
		resp, err := http.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", p, resp.StatusCode)
		}
	}
}
