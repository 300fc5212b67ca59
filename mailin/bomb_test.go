package mailin

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/postdesk/postdesk/desk"
	"github.com/postdesk/postdesk/message/prescan"

	"github.com/postdesk/postdesk/internal/mailmix"
)

// bombs are the mail DESIGN.md §8 says enmime must never see, generated
// (not committed) by name; maxBytes is the Intake size limit that lets
// each reach the pre-scan, reason what the quarantine reason must say.
var bombs = []struct {
	name     string
	mail     func() []byte
	maxBytes int64
	reason   string
}{
	{"3000-deep multipart", func() []byte { return nestedMail(3000) }, 0, "nesting depth 21, limit 20"},
	{"100000 parts", func() []byte { return manyPartsMail(100_000) }, 0, "501 parts, limit 500"},
	{"40 MiB line", func() []byte { return longLineMail(40 << 20) }, 64 << 20, fmt.Sprintf("a line of %d bytes, limit %d", 40<<20, prescan.DefaultLineBytes)},
}

// fixtures is the folder of message's .eml fixtures, which intake must
// pass too.
var fixtures = filepath.Join("..", "message", "testdata")

// readFixture reads a file of fixtures.
func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(fixtures, name))
	if err != nil {
		t.Fatalf("read fixture: %v", err)
	}
	return raw
}

// The generated bombs are internal/mailmix's.
var (
	nestedMail    = mailmix.Nested
	manyPartsMail = mailmix.ManyParts
	longLineMail  = mailmix.LongLine
)

func TestIntakeQuarantinesBombs(t *testing.T) {
	for _, bomb := range bombs {
		t.Run(bomb.name, func(t *testing.T) {
			raw := bomb.mail()
			d := newRecordingDesk()
			it := &Intake{Desk: d, MaxBytes: bomb.maxBytes}
			if _, err := it.Process(context.Background(), raw, Source{Mailbox: "INBOX", UID: 7}); err != nil {
				t.Fatalf("Process: %v", err)
			}
			if len(d.got) != 1 {
				t.Fatalf("desk got %d messages, want 1", len(d.got))
			}
			got := d.got[0] // recordingDesk.Quarantine files the reason as Message-ID
			reason, quarantined := strings.CutPrefix(got.MessageID, "quarantined:")
			if !quarantined || !strings.Contains(reason, bomb.reason) {
				t.Errorf("desk got %q, want a quarantine whose reason says %q", got.MessageID, bomb.reason)
			}
			if len(got.Raw) != len(raw) || &got.Raw[0] != &raw[0] || got.UID != 7 {
				t.Errorf("quarantine did not keep the raw message of UID 7")
			}

			it.DryRun = true
			res, err := it.Process(context.Background(), raw, Source{})
			if err != nil || res.Outcome != desk.Quarantined || !strings.Contains(res.Reason, bomb.reason) {
				t.Errorf("dry run = %+v, %v; want quarantined for %q", res, err, bomb.reason)
			}
		})
	}
}

func TestIntakeSizeGateComesFirst(t *testing.T) {
	d := newRecordingDesk()
	it := &Intake{Desk: d, DryRun: true}
	res, err := it.Process(context.Background(), longLineMail(40<<20), Source{})
	if err != nil || res.Outcome != desk.Quarantined || !strings.HasPrefix(res.Reason, "larger than") {
		t.Errorf("Process = %+v, %v; want quarantined by the size gate", res, err)
	}
}

func TestIntakePassesFixtures(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(fixtures, "*.eml"))
	for _, file := range files {
		d := newRecordingDesk()
		it := &Intake{Desk: d}
		if _, err := it.Process(context.Background(), readFixture(t, filepath.Base(file)), Source{}); err != nil {
			t.Fatalf("%s: Process: %v", file, err)
		}
		for _, id := range d.ids() {
			if strings.HasPrefix(id, "quarantined:message too complex") {
				t.Errorf("%s: %s", filepath.Base(file), id)
			}
		}
	}
}

func TestIntakeLimits(t *testing.T) {
	it := &Intake{MaxBytes: 1 << 20, Limits: prescan.Limits{Parts: 3}}
	if l := it.limits(); l.DecodedBytes != 4<<20 || l.Parts != 3 {
		t.Errorf("limits() = %+v, want DecodedBytes 4 × MaxBytes and Parts kept", l)
	}
	it.Limits.DecodedBytes = 5
	if l := it.limits(); l.DecodedBytes != 5 {
		t.Errorf("limits() = %+v, want DecodedBytes kept", l)
	}
}

// BenchmarkPrescanBomb times the pre-scan of each bomb:
//
//	go test ./mailin -run '^$' -bench PrescanBomb -benchmem
func BenchmarkPrescanBomb(b *testing.B) {
	for _, bomb := range bombs {
		b.Run(strings.ReplaceAll(bomb.name, " ", "-"), func(b *testing.B) {
			raw := bomb.mail()
			l := prescan.Limits{DecodedBytes: 4 * max(bomb.maxBytes, 25<<20)}
			b.SetBytes(int64(len(raw)))
			b.ReportAllocs()
			for b.Loop() {
				if err := prescan.Check(raw, l); err == nil {
					b.Fatal("bomb passed")
				}
			}
		})
	}
}

// BenchmarkPrescanFixtures is the cost of the pre-scan on ordinary mail.
func BenchmarkPrescanFixtures(b *testing.B) {
	files, _ := filepath.Glob(filepath.Join(fixtures, "*.eml"))
	var raws [][]byte
	for _, file := range files {
		raws = append(raws, readFixture(b, filepath.Base(file)))
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, raw := range raws {
			if err := prescan.Check(raw, prescan.Limits{}); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// footprintEnv names the bomb a child process of TestBombFootprint handles.
const footprintEnv = "POSTDESK_BOMB"

// TestBombFootprint measures, for each bomb, a process that generates it
// and passes it once through Intake.Process: the time Process takes and
// the peak resident set (VmHWM) of the process, which includes the Go
// runtime, the test binary and the generated mail itself. It reports and
// asserts nothing about them (timing assertions are flaky); run it with
//
//	POSTDESK_FOOTPRINT=1 go test ./mailin -run TestBombFootprint -v -count=1
func TestBombFootprint(t *testing.T) {
	if name := os.Getenv(footprintEnv); name != "" {
		footprintChild(t, name)
		return
	}
	if os.Getenv("POSTDESK_FOOTPRINT") == "" {
		t.Skip("informative only: set POSTDESK_FOOTPRINT=1 to measure")
	}
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skipf("no /proc/self/status: %v", err)
	}
	for _, bomb := range bombs {
		cmd := exec.Command(os.Args[0], "-test.run=^TestBombFootprint$", "-test.v", "-test.count=1")
		cmd.Env = append(os.Environ(), footprintEnv+"="+bomb.name)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", bomb.name, err, out)
		}
		for line := range strings.Lines(string(out)) {
			if _, rest, ok := strings.Cut(line, "footprint: "); ok {
				t.Logf("%s", strings.TrimSpace(rest))
			}
		}
	}
}

// footprintChild handles one bomb and prints its measures.
func footprintChild(t *testing.T, name string) {
	for _, bomb := range bombs {
		if bomb.name != name {
			continue
		}
		before := vmHWM(t)
		raw := bomb.mail()
		d := newRecordingDesk()
		it := &Intake{Desk: d, MaxBytes: bomb.maxBytes}
		start := time.Now()
		_, err := it.Process(context.Background(), raw, Source{})
		dur := time.Since(start)
		if err != nil || len(d.got) != 1 || !strings.HasPrefix(d.got[0].MessageID, "quarantined:") {
			t.Fatalf("Process = %v; desk got %v", err, d.ids())
		}
		t.Logf("footprint: %s (%d bytes): Process %v; VmHWM %s before generating, %s after",
			name, len(raw), dur.Round(time.Microsecond), before, vmHWM(t))
		return
	}
	t.Fatalf("no bomb %q", name)
}

// vmHWM is the peak resident set of this process so far.
func vmHWM(t *testing.T) string {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for line := range bytes.Lines(status) {
		if v, ok := bytes.CutPrefix(line, []byte("VmHWM:")); ok {
			return strings.Join(strings.Fields(string(v)), " ")
		}
	}
	return "?"
}
