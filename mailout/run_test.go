package mailout

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/postdesk/postdesk/store"
)

// records is a slog.Handler that keeps every record, and signals each one.
type records struct {
	mu   sync.Mutex
	all  []slog.Record
	each chan slog.Record
}

func newRecords() *records { return &records{each: make(chan slog.Record, 100)} }

func (r *records) Enabled(context.Context, slog.Level) bool { return true }
func (r *records) WithAttrs([]slog.Attr) slog.Handler       { return r }
func (r *records) WithGroup(string) slog.Handler            { return r }
func (r *records) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	r.all = append(r.all, rec)
	r.mu.Unlock()
	select {
	case r.each <- rec:
	default:
	}
	return nil
}

func attrs(rec slog.Record) map[string]string {
	out := map[string]string{}
	rec.Attrs(func(a slog.Attr) bool {
		out[a.Key] = a.Value.String()
		return true
	})
	return out
}

// waitCtx bounds how long a test waits for something that should happen at
// once; it is a safety net against hanging, not a timing assertion.
func waitCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestRunSendsWhenKickedAndStopsWithTheContext(t *testing.T) {
	db := openDB(t)
	sink := startSink(t)
	s, clk := newSender(t, db, sink, nil)
	c := newCase(t, db, "en")
	enqueue(t, db, confirmation(c))

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()

	if _, err := sink.Wait(waitCtx(t), 1); err != nil {
		t.Fatalf("Run did not flush at start: %v", err)
	}
	// Due in an hour of the fake clock: without the Kick, Run would sleep
	// its full minute before looking again, past waitCtx.
	later := confirmation(c)
	later.CreatedAt = t0.Add(time.Hour)
	later = enqueue(t, db, later)
	clk.Advance(time.Hour)
	s.Kick()
	got, err := sink.Wait(waitCtx(t), 2)
	if err != nil {
		t.Fatalf("Kick did not wake Run: %v", err)
	}
	if !strings.Contains(string(got[1].Data), "<"+later.MessageID+">") {
		t.Errorf("second mail is not the one queued later:\n%s", got[1].Data)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run = %v, want nil when ctx ends", err)
		}
	case <-waitCtx(t).Done():
		t.Fatal("Run did not return after ctx ended")
	}
}

func TestRunSurvivesAFailingFlush(t *testing.T) {
	db := openDB(t)
	logs := newRecords()
	s, _ := newSender(t, db, nil, func(o *Options) { o.Logger = slog.New(logs) })
	db.Close() // every query now fails

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	for rec := range logs.each {
		if rec.Message == "outbox flush failed" && strings.Contains(attrs(rec)["error"], "closed") {
			break
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run = %v, want nil when ctx ends", err)
	}
}

func TestFlushLogsOneLinePerMailWithoutSecrets(t *testing.T) {
	db := openDB(t)
	sink := startSink(t)
	logs := newRecords()
	s, _ := newSender(t, db, sink, func(o *Options) {
		o.Username, o.Password, o.Logger = "desk", "hunter2-secret", slog.New(logs)
	})
	c := newCase(t, db, "en")
	sent := enqueue(t, db, &store.OutboxItem{Kind: store.MailReply, CaseID: c, To: []string{"alice@acme.example"},
		Notice: store.Notice{Case: c, Tag: "[Case #1]", Subject: "x", Body: "PRIVATE-BODY-TEXT"}})
	bad := enqueue(t, db, confirmation(c, "bad address"))

	flush(t, s, Stats{Sent: 1, Failed: 1})

	logs.mu.Lock()
	defer logs.mu.Unlock()
	if len(logs.all) != 2 {
		t.Fatalf("%d log records, want one per mail", len(logs.all))
	}
	want := []struct {
		it      *store.OutboxItem
		outcome string
		level   slog.Level
	}{{sent, "sent", slog.LevelInfo}, {bad, "failed", slog.LevelError}}
	// Sent mail is logged when it is recorded, with the others of its
	// batch: match the records by Message-ID, not by order.
	byID := map[string]int{}
	for i, rec := range logs.all {
		byID[attrs(rec)["msgid"]] = i
	}
	for _, w := range want {
		i, ok := byID[w.it.MessageID]
		if !ok {
			t.Errorf("no log record for %s", w.it.MessageID)
			continue
		}
		rec, a := logs.all[i], attrs(logs.all[i])
		if rec.Level != w.level || a["kind"] != w.it.Kind || a["case"] != fmt.Sprint(c) ||
			a["msgid"] != w.it.MessageID || a["outcome"] != w.outcome {
			t.Errorf("record %d: %s %v", i, rec.Level, a)
		}
		for k, v := range a {
			if strings.Contains(v, "PRIVATE-BODY-TEXT") || strings.Contains(v, "hunter2") {
				t.Errorf("record %d logs a body or a password in %s", i, k)
			}
		}
	}
}
