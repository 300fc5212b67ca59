// Package httpcheck holds what tests of postdesk's HTTP listener share: a
// clock that moves only when told, one request, and a scrape of /metrics in
// the Prometheus text format.
package httpcheck

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Start returns a Clock showing t.
func Start(t time.Time) *Clock { return &Clock{now: t} }

// T0 is the fixed time at which every HTTP test starts.
var T0 = time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)

// Clock is a clock that moves only when told (zero value: the zero time;
// set it with Advance from a start, or construct with Start).
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// Now reports the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

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
