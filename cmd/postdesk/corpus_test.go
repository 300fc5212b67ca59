package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/mail"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/postdesk/postdesk/desk"
	"github.com/postdesk/postdesk/mailin"
	"github.com/postdesk/postdesk/message"
)

// sharedCorpus is the real-world mail of other projects (see its README):
// ../shared/corpus seen from the repository root, which is two levels up.
var sharedCorpus = filepath.Join("..", "..", "..", "shared", "corpus")

// corpusMachineAllowed lists sisimai machine mail that is treated as a
// person's, with the reason; it matches message/classify_test.go.
var corpusMachineAllowed = map[string]string{
	"bsd/lhost-sendmail-14.eml": "a person forwarding a bounce inline with a comment",
}

// isCorpusMessage reports whether rel (slash-separated, relative to a corpus
// folder) is a message file rather than an expectation, a manifest, a
// licence or the golden output of the TNEF tests.
func isCorpusMessage(rel string) bool {
	parts := strings.Split(rel, "/")
	for _, p := range parts {
		if strings.HasPrefix(p, ".") || strings.Contains(p, "LICENSE") || strings.HasPrefix(p, "COPYING") {
			return false
		}
	}
	switch filepath.Ext(rel) {
	case ".json", ".yml", ".yaml", ".tsv", ".list", ".md":
		return false
	}
	// mimekit/tnef holds raw TNEF streams and, in one directory per
	// stream, the files expected from them; only its two .eml are mail.
	if parts[0] == "tnef" && (strings.HasSuffix(rel, ".tnef") || len(parts) > 2) {
		return false
	}
	return true
}

// corpusFiles lists the message files of one corpus folder, in lexical
// order (so replies come after the mail they answer, as upstream numbered
// them).
func corpusFiles(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		if rel = filepath.ToSlash(rel); isCorpusMessage(rel) {
			files = append(files, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// manifestFiles returns the first column of a folder's MANIFEST.tsv (one
// row per message), nil when there is none.
func manifestFiles(t *testing.T, dir string) []string {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "MANIFEST.tsv"))
	if err != nil {
		return nil
	}
	defer f.Close()
	var files []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	for first := true; sc.Scan(); first = false {
		if name, _, _ := strings.Cut(sc.Text(), "\t"); !first && name != "" {
			files = append(files, name)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("MANIFEST.tsv: %v", err)
	}
	slices.Sort(files)
	return files
}

// corpusExpectation is the part of an expected.json / expected-extra.json
// entry this test checks.
type corpusExpectation struct {
	Kind             string `json:"kind"`
	MachineGenerated bool   `json:"machine_generated"`
}

func readExpectations(t *testing.T, path string) map[string]corpusExpectation {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("corpus expectations: %v", err)
	}
	var m map[string]corpusExpectation
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return m
}

// fromAddresses returns, lower-cased, the From address the desk sees and
// every address net/mail reads in the From field.
func fromAddresses(raw []byte) []string {
	var out []string
	if m, err := message.Parse(raw); err == nil && m.From != "" {
		out = append(out, strings.ToLower(m.From))
	}
	if msg, err := mail.ReadMessage(bytes.NewReader(raw)); err == nil {
		if list, err := msg.Header.AddressList("From"); err == nil {
			for _, a := range list {
				out = append(out, strings.ToLower(a.Address))
			}
		}
	}
	return out
}

// correspondents returns, lower-cased, the From and Cc addresses of a
// person's mail: who may legitimately be written to about its case.
func correspondents(raw []byte) []string {
	m, err := message.Parse(raw)
	if err != nil {
		return nil
	}
	out := []string{strings.ToLower(m.From)}
	for _, a := range m.Cc {
		out = append(out, strings.ToLower(a))
	}
	return out
}

// processSafely runs one message through intake, turning a panic into an
// error that names the file.
func processSafely(ctx context.Context, in *mailin.Intake, raw []byte) (res desk.Result, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return in.Process(ctx, raw, mailin.Source{})
}

// corpusRun is what feeding one folder produced.
type corpusRun struct {
	outcomes map[string]desk.Result
	total    time.Duration
}

func TestCorpusThroughThePipeline(t *testing.T) {
	entries, err := os.ReadDir(sharedCorpus)
	if err != nil {
		t.Skipf("no shared corpus at %s (%v): nothing to run", sharedCorpus, err)
	}
	var mails int
	var spent time.Duration
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		folder := e.Name()
		t.Run(folder, func(t *testing.T) {
			dir := filepath.Join(sharedCorpus, folder)
			files := corpusFiles(t, dir)
			if manifest := manifestFiles(t, dir); manifest != nil && !slices.Equal(files, manifest) {
				t.Errorf("message files found differ from MANIFEST.tsv:\nfound    %v\nmanifest %v", files, manifest)
			}
			e := newEnv(t)
			run := feedCorpus(t, e, dir, files)
			mails += len(files)
			spent += run.total
			switch folder {
			case "sisimai":
				checkSisimai(t, e, dir, run)
			case "zammad":
				checkZammad(t, dir, run)
			}
		})
	}
	if spent > 0 {
		t.Logf("corpus: %d mails in %s of intake, %.1f mails/s", mails, spent.Round(time.Millisecond),
			float64(mails)/spent.Seconds())
	}
}

// feedCorpus opens a fresh app on e's configuration, takes every file
// through the intake of `postdesk ingest`, then sends the outbox.
func feedCorpus(t *testing.T, e *env, dir string, files []string) corpusRun {
	ctx := context.Background()
	cfg, err := LoadConfig(e.cfg)
	if err != nil {
		t.Fatal(err)
	}
	a, err := openApp(ctx, cfg, appOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	in, err := a.intake("")
	if err != nil {
		t.Fatal(err)
	}
	run := corpusRun{outcomes: map[string]desk.Result{}}
	robots := map[string]string{} // From of machine mail -> file
	people := map[string]bool{}   // From and Cc of mail that opened or joined a case
	hist := map[desk.Outcome]int{}
	var slowest string
	var slowestTime time.Duration
	for _, name := range files {
		raw, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		res, err := processSafely(ctx, in, raw)
		took := time.Since(start)
		run.total += took
		if took > slowestTime {
			slowest, slowestTime = name, took
		}
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		checkResult(t, name, res)
		run.outcomes[name] = res
		hist[res.Outcome]++
		switch res.Outcome {
		case desk.Bounced, desk.AutoDropped:
			for _, addr := range fromAddresses(raw) {
				robots[addr] = name
			}
		case desk.NewCase, desk.Reply:
			for _, addr := range correspondents(raw) {
				people[addr] = true
			}
		}
	}
	st, err := a.sender.Flush(ctx)
	if err != nil {
		t.Fatalf("outbox flush: %v", err)
	}
	items, err := a.db.Outbox(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		if it.Status != "sent" {
			t.Logf("outbox: %s of case %d to %v %v: %s: %s", it.Kind, it.CaseID, it.To, it.Cc, it.Status, it.LastError)
		}
	}
	// Nothing answers machine mail: no mail goes to the sender of mail
	// dropped as automatic or taken as a bounce, unless that address also
	// wrote (or was copied on) a person's mail that opened or joined a case.
	for _, m := range e.sink.Messages() {
		for _, rcpt := range m.To {
			rcpt = strings.ToLower(rcpt)
			if file, ok := robots[rcpt]; ok && !people[rcpt] {
				t.Errorf("mail %q sent to %s, the sender of machine mail %s", headerOf(m, "Subject"), rcpt, file)
			}
		}
	}
	t.Logf("%d files: %s; slowest %s (%s); outbox sent %d, retrying %d, failed %d",
		len(files), histogram(hist), slowest, slowestTime.Round(time.Microsecond), st.Sent, st.Retried, st.Failed)
	return run
}

// checkResult checks what holds for every mail: a known outcome, a case
// number exactly where the outcome names a case, and no panic hidden in a
// quarantine reason.
func checkResult(t *testing.T, name string, res desk.Result) {
	t.Helper()
	switch res.Outcome {
	case desk.NewCase, desk.Reply:
		if res.Case <= 0 {
			t.Errorf("%s: %s without a case number: %+v", name, res.Outcome, res)
		}
	case desk.Held, desk.Duplicate, desk.Bounced, desk.AutoDropped, desk.Refused:
	case desk.Quarantined:
		if strings.Contains(res.Reason, "panic") {
			t.Errorf("%s: quarantined after a panic: %s", name, res.Reason)
		}
	default:
		t.Errorf("%s: unknown outcome %+v", name, res)
	}
}

func histogram(h map[desk.Outcome]int) string {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, string(k))
	}
	slices.Sort(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, h[desk.Outcome(k)]))
	}
	return strings.Join(parts, ", ")
}

// checkSisimai: machine mail never opens, joins or is held on a case and
// is never answered; the two ordinary mails open cases.
func checkSisimai(t *testing.T, e *env, dir string, run corpusRun) {
	t.Helper()
	exp := readExpectations(t, filepath.Join(dir, "expected.json"))
	robots := map[string]string{} // From address -> file
	checked := 0
	for name, x := range exp {
		res, ok := run.outcomes[name]
		if !ok {
			t.Errorf("%s: in expected.json but not processed", name)
			continue
		}
		checked++
		if !x.MachineGenerated {
			if res.Outcome != desk.NewCase {
				t.Errorf("%s (%s, written by a person): outcome %s (%s), want new_case", name, x.Kind, res.Outcome, res.Reason)
			}
			continue
		}
		if _, ok := corpusMachineAllowed[name]; ok {
			continue
		}
		switch res.Outcome {
		case desk.Bounced, desk.AutoDropped, desk.Duplicate:
		default:
			t.Errorf("%s (%s): outcome %s case %d (%s), want bounce, auto_dropped or duplicate",
				name, x.Kind, res.Outcome, res.Case, res.Reason)
		}
		raw, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range fromAddresses(raw) {
			robots[a] = name
		}
	}
	if checked != len(exp) || checked == 0 {
		t.Errorf("checked %d of %d sisimai expectations", checked, len(exp))
	}
	for _, m := range e.sink.Messages() {
		for _, rcpt := range m.To {
			if file, ok := robots[strings.ToLower(rcpt)]; ok {
				t.Errorf("mail sent to %s, the sender of machine mail %s: Subject %q", rcpt, file, headerOf(m, "Subject"))
			}
		}
	}
	t.Logf("sisimai: %d expectations checked, %d machine senders, %d mails sent", checked, len(robots), len(e.sink.Messages()))
}

// checkZammad: the messages expected-extra.json marks as machine mail open
// no case.
func checkZammad(t *testing.T, dir string, run corpusRun) {
	t.Helper()
	exp := readExpectations(t, filepath.Join(dir, "expected-extra.json"))
	n := 0
	for name, x := range exp {
		if !x.MachineGenerated {
			continue
		}
		n++
		res, ok := run.outcomes[name]
		switch {
		case !ok:
			t.Errorf("%s: in expected-extra.json but not processed", name)
		case res.Outcome == desk.NewCase:
			t.Errorf("%s (%s): opened case %d", name, x.Kind, res.Case)
		}
	}
	if n == 0 {
		t.Error("expected-extra.json marks no message as machine generated: format changed?")
	}
	t.Logf("zammad: %d machine-generated expectations checked", n)
}
