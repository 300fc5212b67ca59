package smtpsink

import (
	"context"
	"errors"
	"net/smtp"
	"net/textproto"
	"slices"
	"sync"
	"testing"
	"time"
)

func startWith(t *testing.T, o Options) *Sink {
	t.Helper()
	s, err := StartWith(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// send sends msg from desk@example.com to a@acme.example over a client
// that says EHLO client.example.
func send(s *Sink) error {
	c, err := smtp.Dial(s.Addr())
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Hello("client.example"); err != nil {
		return err
	}
	if err := c.Mail("desk@example.com"); err != nil {
		return err
	}
	if err := c.Rcpt("a@acme.example"); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write([]byte(msg)); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

func TestScriptRefusesWithItsReply(t *testing.T) {
	refuse := func(int) error { return &Reply{Code: 550, Enhanced: [3]int{5, 7, 1}, Message: "not from you"} }
	tests := []struct {
		name     string
		script   Script
		wantCode int
		wantMsg  string
		wantSeen Seen
	}{
		{"Helo refuses EHLO with its reply",
			Script{Helo: func(name string) error {
				return &Reply{Code: 504, Enhanced: [3]int{5, 5, 2}, Message: "<" + name + ">: need fully-qualified hostname"}
			}},
			// net/smtp tries HELO after the refused EHLO.
			504, "5.5.2 <client.example>: need fully-qualified hostname", Seen{Helos: []string{"client.example", "client.example"}}},
		{"Mail refuses MAIL FROM, enhanced code defaulting to the class",
			Script{Mail: func(n int) error { return &Reply{Code: 451, Message: "try later"} }},
			451, "4.0.0 try later", Seen{Helos: []string{"client.example"}, Mails: 1}},
		{"Mail with another error is answered 451",
			Script{Mail: func(n int) error { return errors.New("database locked") }},
			451, "4.0.0 database locked", Seen{Helos: []string{"client.example"}, Mails: 1}},
		{"AfterData refuses a message it has read",
			Script{AfterData: refuse},
			550, "5.7.1 not from you", Seen{Helos: []string{"client.example"}, Mails: 1, Data: [][]byte{[]byte(msg)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startWith(t, Options{Script: tt.script})
			err := send(s)
			var reply *textproto.Error
			if !errors.As(err, &reply) || reply.Code != tt.wantCode || reply.Msg != tt.wantMsg {
				t.Fatalf("send: err = %v, want %d %q", err, tt.wantCode, tt.wantMsg)
			}
			got := s.Seen()
			if !slices.Equal(got.Helos, tt.wantSeen.Helos) || got.Mails != tt.wantSeen.Mails ||
				!slices.EqualFunc(got.Data, tt.wantSeen.Data, func(a, b []byte) bool { return string(a) == string(b) }) {
				t.Errorf("Seen = EHLO %q, %d MAIL FROM, data %q; want EHLO %q, %d MAIL FROM, data %q",
					got.Helos, got.Mails, got.Data, tt.wantSeen.Helos, tt.wantSeen.Mails, tt.wantSeen.Data)
			}
			if n := len(s.Messages()); n != 0 {
				t.Errorf("%d messages accepted, want none", n)
			}
		})
	}
}

func TestScriptHooksCountOverConnections(t *testing.T) {
	var (
		mu           sync.Mutex
		mails, datas []int
	)
	record := func(to *[]int) func(int) error {
		return func(n int) error {
			mu.Lock()
			defer mu.Unlock()
			*to = append(*to, n)
			return nil
		}
	}
	s := startWith(t, Options{Script: Script{Mail: record(&mails), AfterData: record(&datas)}})
	for range 2 {
		if err := send(s); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(mails, []int{1, 2}) || !slices.Equal(datas, []int{1, 2}) {
		t.Errorf("Mail saw %v, AfterData saw %v; want 1 then 2", mails, datas)
	}
	got := s.Seen()
	if got.Mails != 2 || len(got.Data) != 2 || len(got.Helos) != 2 || len(s.Messages()) != 2 {
		t.Errorf("Seen = EHLO %q, %d MAIL FROM, %d messages read, %d accepted; want 2 of each",
			got.Helos, got.Mails, len(got.Data), len(s.Messages()))
	}
	got.Data[0][0] = 'X'
	if s.Seen().Data[0][0] != msg[0] {
		t.Error("Seen shares its slices with the caller")
	}
}

// ErrDrop closes the connection: the client reads no reply, and the
// message read is seen but not accepted.
func TestErrDropClosesTheConnection(t *testing.T) {
	s := startWith(t, Options{Script: Script{AfterData: func(int) error { return ErrDrop }}})
	err := send(s)
	var reply *textproto.Error
	if err == nil || errors.As(err, &reply) {
		t.Fatalf("send: err = %v, want the connection lost without a reply", err)
	}
	if got := s.Seen(); len(got.Data) != 1 || string(got.Data[0]) != msg {
		t.Errorf("Seen.Data = %q, want the message", got.Data)
	}
	if n := len(s.Messages()); n != 0 {
		t.Errorf("%d messages accepted, want none", n)
	}
}

// A BeforeData hook that blocks holds the client in DATA until Close,
// which releases it (whether the message is then read whole or cut off
// by the closing connection is a race, and not asserted).
func TestBeforeDataHoldsUntilClose(t *testing.T) {
	entered := make(chan int, 1)
	s := startWith(t, Options{Script: Script{BeforeData: func(n int, closing <-chan struct{}) {
		entered <- n
		<-closing
	}}})
	sent := make(chan error, 1)
	go func() { sent <- send(s) }()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	select {
	case n := <-entered:
		if n != 1 {
			t.Errorf("BeforeData called with %d, want 1", n)
		}
	case <-ctx.Done():
		t.Fatal("BeforeData was not called")
	}
	if got := s.Seen(); got.Mails != 1 || len(got.Data) != 1 || got.Data[0] != nil {
		t.Errorf("Seen = %d MAIL FROM, data %q while DATA is held; want one MAIL FROM and one message not yet read",
			got.Mails, got.Data)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	select {
	case <-sent:
	case <-ctx.Done():
		t.Fatal("the client was still held after Close")
	}
}

func TestReplyError(t *testing.T) {
	tests := []struct {
		r    Reply
		want string
	}{
		{Reply{Code: 504, Enhanced: [3]int{5, 5, 2}, Message: "need fully-qualified hostname"}, "504 5.5.2 need fully-qualified hostname"},
		{Reply{Code: 451, Message: "try later"}, "451 4.0.0 try later"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.r.Error(); got != tt.want {
				t.Errorf("Error() = %q", got)
			}
		})
	}
}
