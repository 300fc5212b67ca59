package main

import (
	"bytes"
	"context"
	"encoding/json"
	"mime"
	"net/mail"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/postdesk/postdesk/mailin"
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
		"-big=false", "-timeout", "60s", "-postdesk", bin}
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
	if lookup(rep, "big_mail") != nil || lookup(rep, "soak") != nil {
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

func TestMixIsExactPerBlockAndParses(t *testing.T) {
	g := newGenerator(7, "test")
	var count [numKinds]int
	for i := range 2 * mixBlock {
		count[g.kindOf(i)]++
	}
	if want := [numKinds]int{18, 18, 2, 2}; count != want {
		t.Errorf("kinds over two blocks = %v, want %v (45/45/5/5 %%)", count, want)
	}
	want := map[kind]struct {
		min, max int
		ctype    string
	}{
		kindPlain:  {1800, 2600, "text/plain"},
		kindAlt:    {7500, 9000, "multipart/alternative"},
		kindJP:     {1500, 3500, "text/plain"},
		kindAttach: {attachBytes * 4 / 3, attachBytes*4/3 + 40000, "multipart/mixed"},
	}
	seen := map[kind]bool{}
	for i := 0; len(seen) < int(numKinds); i++ {
		k := g.kindOf(i)
		if seen[k] {
			continue
		}
		seen[k] = true
		raw := g.mail("t", i)
		w := want[k]
		if len(raw) < w.min || len(raw) > w.max {
			t.Errorf("%s mail is %d bytes, want %d to %d", kindNames[k], len(raw), w.min, w.max)
		}
		msg, err := mail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("%s: %v", kindNames[k], err)
		}
		if ct, _, _ := mime.ParseMediaType(msg.Header.Get("Content-Type")); ct != w.ctype {
			t.Errorf("%s: Content-Type %s, want %s", kindNames[k], ct, w.ctype)
		}
		m, err := mailin.Parse(raw)
		if err != nil {
			t.Fatalf("%s: Parse: %v", kindNames[k], err)
		}
		if m.MessageID != g.mailID("t", i) || m.Text == "" {
			t.Errorf("%s: parsed Message-ID %q, text %d bytes", kindNames[k], m.MessageID, len(m.Text))
		}
		switch k {
		case kindJP:
			if !strings.Contains(m.Text, "サポート") || !strings.ContainsAny(m.Subject, "ログイン請求書サーバー上限応答") {
				t.Errorf("Japanese mail decoded to subject %q, text %.60q", m.Subject, m.Text)
			}
		case kindAttach:
			if len(m.Attachments) != 1 || len(m.Attachments[0].Data) != attachBytes {
				t.Errorf("attachment mail parsed to %d files", len(m.Attachments))
			}
		case kindAlt:
			if m.HTML == "" {
				t.Error("alternative mail has no HTML")
			}
		}
	}
}

func TestAttachmentsDiffer(t *testing.T) {
	g := newGenerator(1, "test")
	var files [][]byte
	for i := 0; len(files) < 2; i++ {
		if g.kindOf(i) == kindAttach {
			m, err := mailin.Parse(g.mail("t", i))
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, m.Attachments[0].Data)
		}
	}
	if bytes.Equal(files[0], files[1]) {
		t.Error("two attachments are identical: the store would deduplicate them")
	}
}

func TestBigMailSize(t *testing.T) {
	g := newGenerator(1, "test")
	raw, file := g.bigMail("big", 3<<20)
	if len(raw) > 3<<20 || len(raw) < 3<<20-200 {
		t.Errorf("big mail is %d bytes, want just under %d", len(raw), 3<<20)
	}
	m, err := mailin.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Attachments) != 1 || len(m.Attachments[0].Data) != file {
		t.Errorf("big mail parsed to %d files, want one of %d bytes", len(m.Attachments), file)
	}
}

func TestPercentile(t *testing.T) {
	v := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	for _, c := range []struct{ p, want float64 }{{50, 5}, {90, 9}, {99, 10}, {100, 10}, {1, 1}} {
		if got := percentile(v, c.p); got != c.want {
			t.Errorf("percentile(%v) = %v, want %v", c.p, got, c.want)
		}
	}
}
