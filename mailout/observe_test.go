package mailout

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/postdesk/postdesk/store"
)

// observed records what a Sender tells its Observer, one string per call.
type observed struct {
	mu    sync.Mutex
	calls []string
}

var _ Observer = (*observed)(nil)

func (o *observed) Sent(kind string) { o.add("sent " + kind) }

func (o *observed) Failed(kind string, permanent bool) {
	o.add(fmt.Sprintf("failed %s permanent=%v", kind, permanent))
}

func (o *observed) Panicked(where string) { o.add("panicked " + where) }

func (o *observed) add(call string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.calls = append(o.calls, call)
}

func (o *observed) list() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.calls)
}

func TestObserverSeesEachResult(t *testing.T) {
	tests := []struct {
		name   string
		reject int  // the SMTP code refusing the transaction; 0 = accept
		down   bool // the server is down
		to     string
		age    time.Duration
		stats  Stats
		want   string
	}{
		{name: "an accepted mail is sent", stats: Stats{Sent: 1}, want: "sent confirmation"},
		{name: "a 451 is a temporary failure", reject: 451, stats: Stats{Retried: 1},
			want: "failed confirmation permanent=false"},
		{name: "a 550 is a permanent failure", reject: 550, stats: Stats{Failed: 1},
			want: "failed confirmation permanent=true"},
		{name: "a server that is down is a temporary failure", down: true, stats: Stats{Retried: 1},
			want: "failed confirmation permanent=false"},
		{name: "a row that cannot be built is a permanent failure", to: "not an address", stats: Stats{Failed: 1},
			want: "failed confirmation permanent=true"},
		{name: "a temporary failure past GiveUpAfter is a permanent one", reject: 451, age: 6 * 24 * time.Hour,
			stats: Stats{Failed: 1}, want: "failed confirmation permanent=true"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := openDB(t)
			sink := startSink(t)
			obs := &observed{}
			s, _ := newSender(t, db, sink, func(o *Options) { o.Observer = obs })
			it := confirmation(newCase(t, db, "en"))
			if tt.to != "" {
				it.To = []string{tt.to}
			}
			it.CreatedAt = t0.Add(-tt.age)
			enqueue(t, db, it)
			sink.Reject(tt.reject, 1)
			if tt.down {
				if err := sink.Close(); err != nil {
					t.Fatal(err)
				}
			}

			flush(t, s, tt.stats)

			checkCalls(t, obs.list(), []string{tt.want})
		})
	}
}

func TestObserverSeesEveryRowOfAFlush(t *testing.T) {
	db := openDB(t)
	sink := startSink(t)
	obs := &observed{}
	s, _ := newSender(t, db, sink, func(o *Options) { o.Observer = obs })
	c := newCase(t, db, "en")
	enqueue(t, db, confirmation(c))
	enqueue(t, db, &store.OutboxItem{
		Kind: store.MailReply, CaseID: c, To: []string{"alice@acme.example"},
		Notice: store.Notice{Case: c, Tag: "[Case #1]", Subject: "ELB unreachable", Author: "sam@example.com",
			Body: "Fixed."},
	})
	sink.Reject(550, 1) // the first transaction only

	flush(t, s, Stats{Sent: 1, Failed: 1})

	checkCalls(t, obs.list(), []string{"failed confirmation permanent=true", "sent reply"})
}

func checkCalls(t *testing.T, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("observer calls = %q, want %q", got, want)
	}
}

// TestObserverSeesAPanicInAFlush makes the failure hook panic: the worker's
// flush turns it into an error and tells the Observer once.
func TestObserverSeesAPanicInAFlush(t *testing.T) {
	db := openDB(t)
	sink := startSink(t)
	obs := &observed{}
	s, _ := newSender(t, db, sink, func(o *Options) {
		o.Observer = obs
		o.OnFailure = func(*store.Tx, *store.OutboxItem, string) error { panic("injected: failure hook") }
	})
	enqueue(t, db, confirmation(newCase(t, db, "en")))
	sink.Reject(550, 1)

	if err := s.safeFlush(t.Context()); err == nil {
		t.Fatal("safeFlush = nil; want the panic as an error")
	}
	checkCalls(t, obs.list(), []string{"panicked " + PanicFlush})
}
