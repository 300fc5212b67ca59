package mailout

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/textproto"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/postdesk/postdesk/store"
)

func flush(t *testing.T, s *Sender, want Stats) {
	t.Helper()
	got, err := s.Flush(context.Background())
	if err != nil {
		t.Fatalf("Flush: %v", err)
	}
	if got != want {
		t.Fatalf("Flush = %+v, want %+v", got, want)
	}
}

func TestFlushSendsAndRecords(t *testing.T) {
	db := openDB(t)
	sink := startSink(t)
	s, _ := newSender(t, db, sink, nil)
	c := newCase(t, db, "en")
	data := []byte("log line\n")
	file := storeFile(t, db, c, "app.log", "text/plain", data)
	conf := enqueue(t, db, confirmation(c))
	reply := enqueue(t, db, &store.OutboxItem{
		Kind: store.MailReply, CaseID: c, To: []string{"alice@acme.example"}, Cc: []string{"bob@acme.example", "carol@acme.example"},
		InReplyTo: conf.MessageID, References: []string{conf.MessageID},
		Notice: store.Notice{Case: c, Tag: "[Case #1]", Subject: "ELB unreachable", Author: "sam@example.com",
			Body: "The targets are healthy again.", Attachments: []store.Attachment{file}},
	})

	flush(t, s, Stats{Sent: 2})

	got := sink.Messages()
	if len(got) != 2 {
		t.Fatalf("sink received %d messages, want 2", len(got))
	}
	tests := []struct {
		name   string
		it     *store.OutboxItem
		rcpts  []string
		auto   string
		inBody string
	}{
		{"confirmation", conf, []string{"alice@acme.example"}, "auto-replied", "Case number: 1"},
		{"reply", reply, []string{"alice@acme.example", "bob@acme.example", "carol@acme.example"}, "", "The targets are healthy again."},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := got[i]
			if m.From != desk || !slices.Equal(m.To, tt.rcpts) {
				t.Errorf("envelope %s → %v, want %s → %v", m.From, m.To, desk, tt.rcpts)
			}
			p := parse(t, m.Data)
			if _, ok := p.header["Auto-Submitted"]; ok != (tt.auto != "") || p.header.Get("Auto-Submitted") != tt.auto {
				t.Errorf("Auto-Submitted = %q, want %q", p.header.Get("Auto-Submitted"), tt.auto)
			}
			if p.header.Get("X-Postdesk-Loop") != desk || p.header.Get("Message-ID") != "<"+tt.it.MessageID+">" {
				t.Errorf("X-Postdesk-Loop %q, Message-ID %q", p.header.Get("X-Postdesk-Loop"), p.header.Get("Message-ID"))
			}
			if !strings.Contains(p.body, tt.inBody) {
				t.Errorf("body lacks %q:\n%s", tt.inBody, p.body)
			}
			r := row(t, db, tt.it.ID)
			if r.Status != store.OutboxSent || r.Attempts != 1 || !r.SentAt.Equal(t0) || r.LastError != "" {
				t.Errorf("row: status %s, attempts %d, sent at %v, error %q", r.Status, r.Attempts, r.SentAt, r.LastError)
			}
			if !bytes.Equal(r.Raw, m.Data) {
				t.Error("the row keeps other bytes than the server received")
			}
		})
	}
	if p := parse(t, got[1].Data); !bytes.Equal(p.files["app.log"], data) {
		t.Errorf("attachment = %q, want %q", p.files["app.log"], data)
	}
	flush(t, s, Stats{}) // nothing is sent twice
}

func TestTemporaryRefusalIsRetriedWithBackoff(t *testing.T) {
	db := openDB(t)
	sink := startSink(t)
	s, clk := newSender(t, db, sink, nil)
	it := enqueue(t, db, confirmation(newCase(t, db, "en")))

	sink.Reject(451, 1)
	flush(t, s, Stats{Retried: 1})
	r := row(t, db, it.ID)
	if r.Status != store.OutboxQueued || r.Attempts != 1 || !r.NextAttemptAt.Equal(t0.Add(time.Minute)) {
		t.Errorf("row: status %s, attempts %d, next %v; want queued, 1, %v", r.Status, r.Attempts, r.NextAttemptAt, t0.Add(time.Minute))
	}
	if !strings.Contains(r.LastError, "451") || !strings.Contains(r.LastError, "refused by smtpsink") {
		t.Errorf("last error %q does not hold the server's reply", r.LastError)
	}
	flush(t, s, Stats{}) // not due yet
	if n := len(sink.Messages()); n != 0 {
		t.Fatalf("sink received %d messages", n)
	}

	clk.Advance(time.Minute)
	flush(t, s, Stats{Sent: 1})
	if r := row(t, db, it.ID); r.Status != store.OutboxSent || r.Attempts != 2 {
		t.Errorf("row: status %s, attempts %d; want sent, 2", r.Status, r.Attempts)
	}
}

func TestPermanentFailures(t *testing.T) {
	tests := []struct {
		name   string
		reject int
		to     string
		age    time.Duration
		reason string
	}{
		{"550 fails at once", 550, "alice@acme.example", 0, "550"},
		{"an invalid recipient fails without sending", 0, `"a@x> NOTIFY=NEVER"@y`, 0, "not a plain address"},
		{"a 4xx past GiveUpAfter fails", 451, "alice@acme.example", 6 * 24 * time.Hour, "gave up after 144h0m0s: RCPT TO:<alice@acme.example>: 451"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := openDB(t)
			sink := startSink(t)
			s, _ := newSender(t, db, sink, nil)
			c := newCase(t, db, "en")
			it := confirmation(c, tt.to)
			it.CreatedAt = t0.Add(-tt.age)
			it = enqueue(t, db, it)
			sink.Reject(tt.reject, 1)

			flush(t, s, Stats{Failed: 1})

			r := row(t, db, it.ID)
			if r.Status != store.OutboxFailed || !strings.Contains(r.LastError, tt.reason) {
				t.Errorf("row: status %s, error %q; want failed with %q", r.Status, r.LastError, tt.reason)
			}
			events, err := db.Events(context.Background(), c)
			if err != nil {
				t.Fatal(err)
			}
			if i := slices.IndexFunc(events, func(e store.Event) bool { return e.Kind == "delivery failed" }); i < 0 ||
				!strings.Contains(events[i].Detail, tt.reason) {
				t.Errorf("no delivery failed event with %q: %+v", tt.reason, events)
			}
			if len(sink.Messages()) != 0 {
				t.Error("the sink accepted a message")
			}
		})
	}
}

func TestServerDownRetriesEveryDueMail(t *testing.T) {
	db := openDB(t)
	sink := startSink(t)
	s, _ := newSender(t, db, sink, nil)
	c := newCase(t, db, "en")
	var ids []int64
	for range 3 {
		ids = append(ids, enqueue(t, db, confirmation(c)).ID)
	}
	bad := enqueue(t, db, confirmation(c, "not an address"))
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}

	flush(t, s, Stats{Retried: 3, Failed: 1})

	for _, id := range ids {
		r := row(t, db, id)
		if r.Status != store.OutboxQueued || r.Attempts != 1 || !strings.Contains(r.LastError, "connect to 127.0.0.1:") {
			t.Errorf("row %d: status %s, attempts %d, error %q", id, r.Status, r.Attempts, r.LastError)
		}
	}
	if r := row(t, db, bad.ID); r.Status != store.OutboxFailed {
		t.Errorf("the row with a bad address is %s, want failed whether or not the server is up", r.Status)
	}
}

func TestBrokenConnectionStopsTheFlush(t *testing.T) {
	db := openDB(t)
	sink := startSink(t)
	s, _ := newSender(t, db, sink, nil)
	c := newCase(t, db, "en")
	first := enqueue(t, db, confirmation(c))
	second := enqueue(t, db, confirmation(c))
	sink.Reject(421, 2) // "closing the connection": no second transaction on it

	flush(t, s, Stats{Retried: 2})

	if r := row(t, db, first.ID); !strings.Contains(r.LastError, "421") {
		t.Errorf("first row error %q, want the 421", r.LastError)
	}
	if r := row(t, db, second.ID); !strings.Contains(r.LastError, "the connection failed") || r.Attempts != 1 {
		t.Errorf("second row: attempts %d, error %q", r.Attempts, r.LastError)
	}
}

func TestFlushAuthenticates(t *testing.T) {
	db := openDB(t)
	sink := startSink(t)
	s, _ := newSender(t, db, sink, func(o *Options) { o.Username, o.Password = "desk", "secret" })
	enqueue(t, db, confirmation(newCase(t, db, "en")))
	flush(t, s, Stats{Sent: 1})
	if got := sink.Messages()[0].User; got != "desk" {
		t.Errorf("authenticated as %q, want desk", got)
	}
}

func TestBackoff(t *testing.T) {
	tests := []struct {
		first, max time.Duration
		n          int
		want       time.Duration
	}{
		{0, 0, 1, time.Minute}, {0, 0, 2, 2 * time.Minute}, {0, 0, 3, 4 * time.Minute}, {0, 0, 6, 32 * time.Minute},
		{0, 0, 7, time.Hour}, {0, 0, 8, time.Hour}, {0, 0, 1000, time.Hour},
		{5 * time.Second, 20 * time.Second, 1, 5 * time.Second}, {5 * time.Second, 20 * time.Second, 3, 20 * time.Second},
		{5 * time.Second, 20 * time.Second, 4, 20 * time.Second}, {time.Second, 1 << 62, 200, 1 << 62},
	}
	db := openDB(t)
	for _, tt := range tests {
		t.Run(fmt.Sprintf("from %s to %s after %d attempts wait %s", tt.first, tt.max, tt.n, tt.want), func(t *testing.T) {
			s, _ := newSender(t, db, nil, func(o *Options) { o.RetryFirst, o.RetryMax = tt.first, tt.max })
			if got := s.backoff(tt.n); got != tt.want {
				t.Errorf("backoff(%d) = %s", tt.n, got)
			}
		})
	}
}

func TestTemporary(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"451 is temporary", fmt.Errorf("RCPT: %w", &textproto.Error{Code: 451, Msg: "try later"}), true},
		{"421 is temporary", &textproto.Error{Code: 421, Msg: "closing"}, true},
		{"550 is permanent", fmt.Errorf("RCPT: %w", &textproto.Error{Code: 550, Msg: "no such user"}), false},
		{"554 is permanent", &textproto.Error{Code: 554, Msg: "rejected"}, false},
		{"no reply is temporary", errors.New("connection reset by peer"), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := temporary(tt.err); got != tt.want {
				t.Errorf("temporary(%v) = %v", tt.err, got)
			}
		})
	}
}

func TestNewChecksOptions(t *testing.T) {
	db := openDB(t)
	tmpl := loadTemplates(t)
	tests := []struct {
		name string
		o    Options
		want string
	}{
		{"no templates", Options{From: desk, Host: "h.example"}, "no templates"},
		{"bad from", Options{From: "Support <support@example.com>", Host: "h.example", Templates: tmpl}, "from address"},
		{"no host", Options{From: desk, Templates: tmpl}, "no SMTP host"},
		{"bad tls", Options{From: desk, Host: "h.example", Templates: tmpl, TLS: "ssl"}, "tls"},
		{"retry_max under retry_first", Options{From: desk, Host: "h.example", Templates: tmpl,
			RetryFirst: time.Hour, RetryMax: time.Minute}, "retry_max 1m0s is shorter than retry_first 1h0m0s"},
		{"negative give_up_after", Options{From: desk, Host: "h.example", Templates: tmpl,
			GiveUpAfter: -time.Hour}, "give_up_after -1h0m0s is negative"},
		{"helo with a space", Options{From: desk, Host: "h.example", Templates: tmpl, Helo: "a b.example"}, "helo"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(db, tt.o); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New = %v, want an error with %q", err, tt.want)
			}
		})
	}
	t.Run("defaults", func(t *testing.T) {
		s, err := New(db, Options{From: desk, Host: "h.example", Templates: tmpl, Name: "Help\r\nBcc: x"})
		if err != nil {
			t.Fatal(err)
		}
		if s.o.TLS != TLSStartTLS || s.o.Port != 587 || s.o.Name != "Help Bcc: x" ||
			s.o.RetryFirst != time.Minute || s.o.RetryMax != time.Hour || s.o.GiveUpAfter != 120*time.Hour {
			t.Errorf("defaults: %+v", s.o)
		}
		if !strings.Contains(s.o.Helo, ".") || s.o.Node == "" {
			t.Errorf("helo %q, node %q: want a fully qualified name and a node", s.o.Helo, s.o.Node)
		}
	})
}
