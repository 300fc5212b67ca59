package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/postdesk/postdesk/caseview"
	"github.com/postdesk/postdesk/config"
	"github.com/postdesk/postdesk/internal/demo"
	"github.com/postdesk/postdesk/internal/smtpsink"
)

// env is a working directory with a configuration that sends to an SMTP
// server in process, and a way to run postdesk commands in it.
type env struct {
	t    *testing.T
	dir  string
	cfg  string
	sink *smtpsink.Sink
}

func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvWith(t, "", "")
}

// newEnvWith is newEnv with more [desk] keys and more tables appended.
func newEnvWith(t *testing.T, deskKeys, tables string) *env {
	t.Helper()
	return newEnvConfig(t, `agents = ["agent@example.com"]
`+deskKeys+`
# The tests of customer-facing mail count what customers get; the agents'
# notices are the business of agents_e2e_test.go.
[[agent]]
address = "agent@example.com"
notify = "none"
`, tables)
}

// newEnvConfig starts an SMTP server and writes a configuration for the
// desk support@example.com that sends to it: deskKeys go in [desk] (they
// must name the agents) and may be followed by tables; more tables come
// after [smtp].
func newEnvConfig(t *testing.T, deskKeys, tables string) *env {
	t.Helper()
	sink, err := smtpsink.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sink.Close() })
	dir := t.TempDir()
	cfg := filepath.Join(dir, "postdesk.toml")
	text := fmt.Sprintf(`[desk]
name = "Example Support"
address = "support@example.com"
database = %q
secret_file = %q
%s
[smtp]
host = "127.0.0.1"
port = %d
tls = "none"
%s`, filepath.Join(dir, "postdesk.db"), filepath.Join(dir, "postdesk.key"), deskKeys, sink.Port(), tables)
	if err := os.WriteFile(cfg, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return &env{t: t, dir: dir, cfg: cfg, sink: sink}
}

// run runs one postdesk command with -config and returns its output and
// exit status.
func (e *env) run(stdin string, args ...string) (string, int) {
	e.t.Helper()
	var out, errOut bytes.Buffer
	full := append([]string{}, args...)
	if len(args) > 0 && args[0] != "demo" && !(len(args) > 1 && args[1] == "example") {
		full = append(full, "-config", e.cfg)
	}
	code := run(context.Background(), full, strings.NewReader(stdin), &out, &errOut)
	if errOut.Len() > 0 {
		e.t.Logf("postdesk %s: stderr: %s", strings.Join(args, " "), errOut.String())
	}
	return out.String(), code
}

// must runs a command that must succeed.
func (e *env) must(stdin string, args ...string) string {
	e.t.Helper()
	out, code := e.run(stdin, args...)
	if code != 0 {
		e.t.Fatalf("postdesk %s: exit %d\n%s", strings.Join(args, " "), code, out)
	}
	return out
}

func (e *env) ingest(file string) ingestLine {
	e.t.Helper()
	out := e.must("", "ingest", "-json", file)
	var line ingestLine
	if err := json.Unmarshal([]byte(out), &line); err != nil {
		e.t.Fatalf("ingest -json printed %q: %v", out, err)
	}
	return line
}

// ingestText writes an .eml and ingests it.
func (e *env) ingestText(name, text string) ingestLine {
	e.t.Helper()
	path := filepath.Join(e.dir, name)
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(text, "\n", "\r\n")), 0o600); err != nil {
		e.t.Fatal(err)
	}
	return e.ingest(path)
}

// flush sends the outbox and returns the mails the SMTP server got.
func (e *env) flush() []smtpsink.Received {
	e.t.Helper()
	before := len(e.sink.Messages())
	e.must("", "outbox", "flush")
	return e.sink.Messages()[before:]
}

func (e *env) show(n int64) caseview.Case {
	e.t.Helper()
	var c caseview.Case
	out := e.must("", "case", "show", fmt.Sprint(n), "-json")
	if err := json.Unmarshal([]byte(out), &c); err != nil {
		e.t.Fatalf("case show -json: %v\n%s", err, out)
	}
	return c
}

func headerOf(m smtpsink.Received, name string) string { return demo.Header(string(m.Data), name) }

func TestWalkingSkeleton(t *testing.T) {
	e := newEnv(t)

	// 2. A new mail opens a case; the confirmation carries the tag, is
	// marked automatic and does not echo the customer's text.
	line := e.ingest("testdata/new.eml")
	if line.Outcome != "new_case" || line.Case != 1 || line.File != "testdata/new.eml" {
		t.Fatalf("ingest = %+v", line)
	}
	sent := e.flush()
	if len(sent) != 2 {
		t.Fatalf("flush sent %d mails, want the confirmation and the contacts' mail", len(sent))
	}
	conf, added := sent[0], sent[1]
	// The contacts learn who added them and the case number: nothing of
	// the subject or text, which anyone may have written.
	if !slices.Equal(added.To, []string{"bob@acme.example", "carol@acme.example"}) ||
		bytes.Contains(added.Data, []byte("ELB")) || bytes.Contains(added.Data, []byte("port 443")) ||
		!bytes.Contains(added.Data, []byte("alice@acme.example")) || !strings.Contains(headerOf(added, "Subject"), "[Case #1]") {
		t.Errorf("contacts' mail to %v:\n%s", added.To, added.Data)
	}
	if subj := headerOf(conf, "Subject"); !strings.Contains(subj, "[Case #1]") {
		t.Errorf("confirmation subject %q lacks the tag", subj)
	}
	if got := headerOf(conf, "Auto-Submitted"); got != "auto-replied" {
		t.Errorf("Auto-Submitted = %q", got)
	}
	if !slices.Contains(conf.To, "alice@acme.example") {
		t.Errorf("confirmation went to %v", conf.To)
	}
	if bytes.Contains(conf.Data, []byte("hunter2")) || bytes.Contains(conf.Data, []byte("port 443")) {
		t.Error("confirmation echoes the customer's text")
	}

	// 3. Field lines and Cc contacts.
	c := e.show(1)
	if c.Severity != "high" || c.Service != "ELB" || c.Requester != "alice@acme.example" {
		t.Errorf("case = %+v", c)
	}
	wantContacts := []caseview.Participant{{Address: "bob@acme.example", Role: "contact"}, {Address: "carol@acme.example", Role: "contact"}}
	if !slices.Equal(c.Participants, wantContacts) {
		t.Errorf("participants = %v, want %v", c.Participants, wantContacts)
	}

	// 5. The same mail again: duplicate, nothing sent.
	if line := e.ingest("testdata/new.eml"); line.Outcome != "duplicate" || line.Case != 1 {
		t.Errorf("second ingest = %+v", line)
	}
	if sent := e.flush(); len(sent) != 0 {
		t.Errorf("duplicate caused %d mails", len(sent))
	}

	// 4a. A reply with the tag in the subject.
	if line := e.ingest("testdata/tagreply.eml"); line.Outcome != "reply" || line.Case != 1 {
		t.Errorf("tag reply = %+v", line)
	}
	// 4b. A contact's reply carrying only our Message-ID in References.
	confID := headerOf(conf, "Message-ID")
	line = e.ingestText("bob.eml", "From: bob@acme.example\nTo: support@example.com\n"+
		"Subject: Re: ELB unreachable\nMessage-ID: <bob-1@acme.example>\nReferences: <alice-1@acme.example> "+confID+
		"\n\nSame here since 08:00.\n")
	if line.Outcome != "reply" || line.Case != 1 {
		t.Errorf("contact reply by Message-ID = %+v", line)
	}

	// 7. A stranger carrying the tag is held and mails nobody.
	if line := e.ingest("testdata/stranger.eml"); line.Outcome != "held" || line.Case != 1 {
		t.Errorf("stranger = %+v", line)
	}
	if sent := e.flush(); len(sent) != 0 {
		t.Errorf("held mail caused %d mails", len(sent))
	}

	// 6. An agent's reply goes to the requester with the contacts in Cc and
	// makes the case pending; the customer's next reply opens it again.
	e.must("Please allow port 443 in the security group.\n", "case", "reply", "1", "-from", "agent@example.com", "-file", "-")
	sent = e.flush()
	if len(sent) != 1 {
		t.Fatalf("agent reply sent %d mails", len(sent))
	}
	reply := sent[0]
	if !slices.Equal(reply.To, []string{"alice@acme.example", "bob@acme.example", "carol@acme.example"}) {
		t.Errorf("envelope recipients %v", reply.To)
	}
	if to, cc := headerOf(reply, "To"), headerOf(reply, "Cc"); !strings.Contains(to, "alice@acme.example") ||
		!strings.Contains(cc, "bob@acme.example") || !strings.Contains(cc, "carol@acme.example") {
		t.Errorf("To %q Cc %q", to, cc)
	}
	if !bytes.Contains(reply.Data, []byte("security group")) {
		t.Error("agent reply lacks the agent's text")
	}
	if got := headerOf(reply, "Auto-Submitted"); got != "" {
		t.Errorf("an agent's reply is marked Auto-Submitted: %q", got)
	}
	if st := e.show(1).Status; st != "pending" {
		t.Errorf("after the agent's reply status %s", st)
	}
	line = e.ingestText("alice3.eml", "From: alice@acme.example\nTo: support@example.com\n"+
		"Subject: Re: ELB unreachable\nMessage-ID: <alice-3@acme.example>\nIn-Reply-To: "+headerOf(reply, "Message-ID")+
		"\n\nDone, it works.\n\n> Please allow port 443\n")
	if line.Outcome != "reply" || line.Case != 1 {
		t.Errorf("customer reply = %+v", line)
	}
	c = e.show(1)
	if c.Status != "open" || c.FirstResponseAt == nil {
		t.Errorf("after the customer's reply: status %s, first response %v", c.Status, c.FirstResponseAt)
	}
	last := c.Messages[len(c.Messages)-1]
	if last.NewText != "Done, it works." {
		t.Errorf("new_text = %q, want the quote stripped", last.NewText)
	}
	kinds := map[string]int{}
	for _, m := range c.Messages {
		kinds[m.Kind]++
	}
	if kinds["customer"] != 4 || kinds["held"] != 1 || kinds["agent"] != 1 {
		t.Errorf("message kinds %v", kinds)
	}
}

func TestCaseJSONFieldNames(t *testing.T) {
	e := newEnv(t)
	e.ingest("testdata/new.eml")
	var show map[string]any
	if err := json.Unmarshal([]byte(e.must("", "case", "show", "1", "-json")), &show); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"id", "subject", "status", "severity", "type", "service", "category", "language",
		"plan", "requester", "assignee", "created_at", "first_response_due", "first_response_at", "closed_at",
		"rating", "related_case", "participants", "messages", "events"} {
		if _, ok := show[k]; !ok {
			t.Errorf("case show -json lacks %q", k)
		}
	}
	msg := show["messages"].([]any)[0].(map[string]any)
	for _, k := range []string{"id", "direction", "kind", "from", "to", "cc", "subject", "message_id", "date",
		"text", "new_text", "attachments", "rejected_attachments"} {
		if _, ok := msg[k]; !ok {
			t.Errorf("message lacks %q", k)
		}
	}
	var list []map[string]any
	if err := json.Unmarshal([]byte(e.must("", "case", "list", "-json")), &list); err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0]["id"] != float64(1) || list[0]["status"] != "open" {
		t.Errorf("case list -json = %v", list)
	}
	if _, ok := list[0]["messages"]; ok {
		t.Error("case list -json includes messages")
	}
}

func TestCommandLineErrors(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name string
		args []string
		code int
	}{
		{"unknown command", []string{"frobnicate"}, exitUsage},
		{"case show without a number", []string{"case", "show"}, exitUsage},
		{"case show of a word", []string{"case", "show", "seven"}, exitUsage},
		{"case show of a missing case", []string{"case", "show", "42"}, exitError},
		{"reply from a non-agent", []string{"case", "reply", "1", "-from", "x@y.example"}, exitError},
		{"ingest of a missing file", []string{"ingest", "nope.eml"}, exitError},
	}
	e.ingest("testdata/new.eml")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, code := e.run("text", tt.args...); code != tt.code {
				t.Errorf("exit %d, want %d", code, tt.code)
			}
		})
	}
}

func TestIngestDryRunRecordsNothing(t *testing.T) {
	e := newEnv(t)
	out := e.must("", "ingest", "-dry-run", "-json", "testdata/new.eml")
	if !strings.Contains(out, `"outcome":"new_case"`) {
		t.Errorf("dry run printed %s", out)
	}
	if out := e.must("", "case", "list", "-json"); strings.TrimSpace(out) != "[]" {
		t.Errorf("dry run left cases: %s", out)
	}
}

func TestIngestDirectoryAndStdin(t *testing.T) {
	e := newEnv(t)
	out := e.must("", "ingest", "-json", "testdata")
	if n := strings.Count(out, "\n"); n != 3 {
		t.Errorf("directory ingest printed %d lines:\n%s", n, out)
	}
	raw, err := os.ReadFile("testdata/new.eml")
	if err != nil {
		t.Fatal(err)
	}
	if out := e.must(string(raw), "ingest", "-json", "-"); !strings.Contains(out, `"file":"-","outcome":"duplicate"`) {
		t.Errorf("stdin ingest printed %s", out)
	}
}

func TestConfigCommands(t *testing.T) {
	e := newEnv(t)
	if out := e.must("", "config", "check"); !strings.Contains(out, "ok") {
		t.Errorf("config check printed %q", out)
	}
	out := e.must("", "config", "example")
	if _, err := config.Parse([]byte(out)); err != nil {
		t.Errorf("config example does not parse: %v", err)
	}
	bad := filepath.Join(e.dir, "bad.toml")
	os.WriteFile(bad, []byte("[smtp]\nhots = \"x\"\n"), 0o600)
	var errOut bytes.Buffer
	code := run(context.Background(), []string{"config", "check", "-config", bad}, nil, &bytes.Buffer{}, &errOut)
	if code != exitError || !strings.Contains(errOut.String(), `bad.toml:2:1`) || !strings.Contains(errOut.String(), "smtp.hots") {
		t.Errorf("exit %d, stderr %q", code, errOut.String())
	}
}

func TestDemo(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"demo"}, nil, &out, &errOut); code != 0 {
		t.Fatalf("demo exit %d\n%s\n%s", code, out.String(), errOut.String())
	}
	text := out.String()
	for _, want := range []string{
		"ELB unreachable from the internet from alice@acme.example: new_case (case 1)",
		"out of office from dave@initech.example: auto_dropped",
		"from bob@acme.example: reply (case 1)",
		"from mallory@evil.example: held (case 1)",
		": duplicate (case 1)",
		"From: \"Alice Martin via Example Support\" <support@example.com>",
		"[attached: app.log, text/plain, 50 bytes]",
		"from lee@example.com: reply (case 1) — agent reply",
		"from kim@example.com: reply (case 1) — agent note",
		"from lee@example.com: reply (case 1) — agent commands",
		"0 left in INBOX, 9 in Processed",
		"none left to send",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("demo output lacks %q\n%s", want, text)
		}
	}
}

func TestNoConfigFileUsesDefaults(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "new.eml"))
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir())
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"ingest", "-json", "-"}, bytes.NewReader(raw), &out, &errOut); code != 0 {
		t.Fatalf("ingest without a config file: exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), `"outcome":"new_case"`) {
		t.Errorf("ingest printed %s", out.String())
	}
	out.Reset()
	if code := run(context.Background(), []string{"case", "list"}, nil, &out, &errOut); code != 0 || !strings.Contains(out.String(), "open") {
		t.Errorf("case list: exit %d, %s %s", code, out.String(), errOut.String())
	}
	if _, err := os.Stat("postdesk.db"); err != nil {
		t.Errorf("no database in the working directory: %v", err)
	}
	code := run(context.Background(), []string{"case", "list", "-config", "missing.toml"}, nil, &out, &errOut)
	if code != exitError || !strings.Contains(errOut.String(), "missing.toml") {
		t.Errorf("an explicit missing config: exit %d, %s", code, errOut.String())
	}
}
