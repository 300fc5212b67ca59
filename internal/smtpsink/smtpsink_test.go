package smtpsink

import (
	"context"
	"errors"
	"net"
	"net/smtp"
	"net/textproto"
	"slices"
	"strconv"
	"testing"
)

func start(t *testing.T) *Sink {
	t.Helper()
	s, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

const msg = "Subject: hi\r\n\r\nhello\r\n.dot line\r\n"

func TestSinkRecordsWhatItAccepts(t *testing.T) {
	s := start(t)
	if s.Host() != "127.0.0.1" || s.Port() == 0 || s.Addr() != net.JoinHostPort(s.Host(), strconv.Itoa(s.Port())) {
		t.Fatalf("Addr %q, Host %q, Port %d", s.Addr(), s.Host(), s.Port())
	}
	auth := smtp.PlainAuth("", "desk", "secret", "127.0.0.1")
	if err := smtp.SendMail(s.Addr(), auth, "desk@example.com", []string{"a@acme.example", "b@acme.example"}, []byte(msg)); err != nil {
		t.Fatal(err)
	}
	got, err := s.Wait(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	m := got[0]
	if m.From != "desk@example.com" || !slices.Equal(m.To, []string{"a@acme.example", "b@acme.example"}) || m.User != "desk" {
		t.Errorf("envelope = %q → %q as %q", m.From, m.To, m.User)
	}
	if string(m.Data) != msg {
		t.Errorf("data = %q, want %q", m.Data, msg)
	}
	got[0].To[0] = "changed"
	if s.Messages()[0].To[0] != "a@acme.example" {
		t.Error("Messages shares its slices with the caller")
	}
}

func TestSinkRejectsTheNextMessagesAsAsked(t *testing.T) {
	tests := []struct {
		name string
		code int
	}{
		{"451 is a temporary refusal", 451},
		{"550 is a permanent refusal", 550},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := start(t)
			s.Reject(tt.code, 1)
			err := smtp.SendMail(s.Addr(), nil, "desk@example.com", []string{"a@acme.example"}, []byte(msg))
			var reply *textproto.Error
			if !errors.As(err, &reply) || reply.Code != tt.code {
				t.Fatalf("first send: err = %v, want a %d reply", err, tt.code)
			}
			if err := smtp.SendMail(s.Addr(), nil, "desk@example.com", []string{"a@acme.example"}, []byte(msg)); err != nil {
				t.Fatalf("second send: %v", err)
			}
			if n := len(s.Messages()); n != 1 {
				t.Errorf("%d messages recorded, want 1", n)
			}
		})
	}
}

func TestWaitEndsWithTheContext(t *testing.T) {
	s := start(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	got, err := s.Wait(ctx, 1)
	if !errors.Is(err, context.Canceled) || len(got) != 0 {
		t.Fatalf("Wait = %v, %v; want no messages and context.Canceled", got, err)
	}
}

func TestClosedSinkRefusesConnections(t *testing.T) {
	s := start(t)
	// An idle client connection must not keep Close waiting.
	idle, err := smtp.Dial(s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if c, err := net.Dial("tcp", s.Addr()); err == nil {
		c.Close()
		t.Fatal("a closed sink accepted a connection")
	}
	if err := idle.Noop(); err == nil {
		t.Error("the idle connection survived Close")
	}
}
