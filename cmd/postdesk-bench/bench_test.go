package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestBenchRunsEndToEnd runs the whole program with tiny sizes on the
// in-process IMAP server and checks that the JSON holds every number. The
// numbers themselves are not judged: benchmarks are programs, never timed
// assertions (DESIGN §7).
func TestBenchRunsEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the daemon; skipped with -short")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("needs the go command to build ./cmd/postdesk:", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	bin := buildForTest(t)
	var stdout, stderr bytes.Buffer
	args := []string{"-n", "20", "-latency-n", "5", "-latency-rate", "20", "-stage-n", "20",
		"-big=false", "-big-html=false", "-timeout", "60s", "-postdesk", bin}
	if code := run(ctx, args, &stdout, &stderr); code != 0 {
		t.Fatalf("exit status %d\nstderr:\n%s", code, stderr.String())
	}
	var rep map[string]any
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("output is not one JSON object: %v\n%s", err, stdout.String())
	}
	for _, key := range []string{
		"live.mails_per_s", "live.append_mails_per_s", "live.daemon_peak_rss_mb", "live.cpu.daemon_s",
		"backlog.mails_per_s", "backlog.append_mails_per_s_no_daemon",
		"latency.p50_ms", "latency.p99_ms", "latency.max_ms",
		"ceilings.parse_mails_per_s_1_goroutine", "ceilings.parse_mails_per_s_all_goroutines",
		"ceilings.store_mails_per_s", "ceilings.send_mails_per_s", "ceilings.intake_no_store_mails_per_s",
		"summary.e2e_over_min_ceiling_ratio", "machine.gomaxprocs", "mix.mean_mail_bytes",
	} {
		if v, ok := lookup(rep, key).(float64); !ok || v <= 0 {
			t.Errorf("%s = %v, want a number > 0", key, lookup(rep, key))
		}
	}
	for key, want := range map[string]float64{"live.confirmations_matched": 20, "backlog.confirmations_matched": 20, "latency.mails": 5} {
		if v, _ := lookup(rep, key).(float64); v != want {
			t.Errorf("%s = %v, want %v", key, lookup(rep, key), want)
		}
	}
	if lookup(rep, "latency.p50_ms").(float64) > lookup(rep, "latency.p99_ms").(float64) {
		t.Errorf("p50 above p99: %v", lookup(rep, "latency"))
	}
	if v := lookup(rep, "flags.n"); v != "20" {
		t.Errorf("flags.n = %v, want the flag as given", v)
	}
	if lookup(rep, "big_mail") != nil || lookup(rep, "big_html_mail") != nil || lookup(rep, "soak") != nil {
		t.Errorf("phases that were turned off are in the output")
	}
}

// buildForTest builds the daemon as the bench would by default, with -race
// when the tests have it, so that the build reuses what `go test` compiled.
func buildForTest(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "postdesk")
	args := []string{"build", "-o", bin}
	if raceEnabled {
		args = append(args, "-race")
	}
	cmd := exec.CommandContext(t.Context(), "go", append(args, "../postdesk")...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ../postdesk: %v\n%s", err, out)
	}
	return bin
}

// lookup follows a dotted path through decoded JSON; nil when absent.
func lookup(v any, path string) any {
	for key := range strings.SplitSeq(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[key]
	}
	return v
}

func TestPercentile(t *testing.T) {
	v := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	for _, c := range []struct{ p, want float64 }{{50, 5}, {90, 9}, {99, 10}, {100, 10}, {1, 1}} {
		if got := percentile(v, c.p); got != c.want {
			t.Errorf("percentile(%v) = %v, want %v", c.p, got, c.want)
		}
	}
}
