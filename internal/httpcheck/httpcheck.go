// Package httpcheck holds what tests of postdesk's HTTP listener share: one
// request, and a scrape of /metrics in the Prometheus text format (their
// clock is internal/testclock).
package httpcheck

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Do sends one request and returns the status, the body and the headers.
func Do(t testing.TB, method, url string) (int, []byte, http.Header) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body, resp.Header
}

// Scrape reads /metrics in the text format: the value of each series
// ("name{labels}") and the type of each metric family.
func Scrape(t testing.TB, url string) (values map[string]float64, types map[string]string) {
	t.Helper()
	code, body, _ := Do(t, http.MethodGet, url+"/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics status %d: %s", code, body)
	}
	values, types = map[string]float64{}, map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		line := sc.Text()
		if typ, ok := strings.CutPrefix(line, "# TYPE "); ok {
			name, kind, _ := strings.Cut(typ, " ")
			types[name] = kind
			continue
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		values[line[:i]] = v
	}
	return values, types
}

// CheckSeries compares the scraped values of the series in want.
func CheckSeries(t testing.TB, values map[string]float64, want map[string]float64) {
	t.Helper()
	for series, w := range want {
		got, ok := values[series]
		if !ok {
			t.Errorf("%s is missing", series)
		} else if got != w {
			t.Errorf("%s = %v, want %v", series, got, w)
		}
	}
}
