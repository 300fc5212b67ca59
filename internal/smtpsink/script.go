package smtpsink

import (
	"bytes"
	"errors"
	"fmt"
)

// Script is what a sink does besides accepting mail: each hook, when set,
// answers one command. Hooks run on the server's connection goroutines,
// so they may be called concurrently when clients are. A hook refuses its
// command by returning an error: a *Reply is sent as it is, ErrDrop closes
// the connection without a reply, and any other error is answered with
// 451 4.0.0 (554 5.0.0 after DATA) and its text.
type Script struct {
	// Helo answers an EHLO or HELO outside a session (Seen.Helos) with
	// the name the client gave; accepted, it opens the session.
	Helo func(name string) error
	// Mail answers the n-th MAIL FROM, counted from 1 over all
	// connections (Seen.Mails).
	Mail func(n int) error
	// BeforeData runs when the n-th DATA begins (counted from 1 over all
	// connections), before the server reads the message: a hook that
	// blocks holds the client there. closing is closed when Close begins;
	// a blocking hook must return then, or Close waits for it.
	BeforeData func(n int, closing <-chan struct{})
	// AfterData answers the n-th message once the server has read it
	// whole; a message it refuses is not recorded as accepted.
	AfterData func(n int) error
}

// Reply is an SMTP reply a Script hook refuses a command with.
type Reply struct {
	// Code is the reply code, e.g. 451 (try again later) or 550 (never).
	Code int
	// Enhanced is the enhanced status code (RFC 3463), e.g. {5, 5, 2};
	// the zero value means Code's class with .0.0.
	Enhanced [3]int
	// Message is the reply's text.
	Message string
}

// Error returns the reply as the server sends it.
func (r *Reply) Error() string {
	e := r.Enhanced
	if e == [3]int{} {
		e[0] = r.Code / 100
	}
	return fmt.Sprintf("%d %d.%d.%d %s", r.Code, e[0], e[1], e[2], r.Message)
}

// ErrDrop, returned by a Script hook, closes the connection instead of
// answering: the client gets no reply to its command.
var ErrDrop = errors.New("smtpsink: connection dropped as scripted")

// Seen is what a sink saw besides the messages it accepted (Messages).
type Seen struct {
	// Helos are the names given by every EHLO or HELO outside a session,
	// oldest first: the first of each connection, the first after
	// STARTTLS, and each one again after Script.Helo refused one.
	Helos []string
	// Mails counts the MAIL FROM commands, refused ones included.
	Mails int
	// Data holds every message whose DATA began, oldest first, whatever
	// the answer; a message still being read is nil.
	Data [][]byte
}

// Seen returns a copy of what the sink saw so far.
func (s *Sink) Seen() Seen {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := Seen{Helos: append([]string(nil), s.seen.Helos...), Mails: s.seen.Mails,
		Data: make([][]byte, len(s.seen.Data))}
	for i, d := range s.seen.Data {
		out.Data[i] = bytes.Clone(d)
	}
	return out
}

// sawHelo records the name of an EHLO or HELO that opens a session.
func (s *Sink) sawHelo(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seen.Helos = append(s.seen.Helos, name)
}

// sawMail records a MAIL FROM and returns its number, from 1.
func (s *Sink) sawMail() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seen.Mails++
	return s.seen.Mails
}

// dataBegins keeps the place of a message whose DATA began, and returns
// its number, from 1.
func (s *Sink) dataBegins() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seen.Data = append(s.seen.Data, nil)
	return len(s.seen.Data)
}

// dataRead records the n-th message, read whole or not.
func (s *Sink) dataRead(n int, data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seen.Data[n-1] = data
}
