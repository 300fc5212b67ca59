package memimap

import (
	"fmt"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-sasl"
)

// xoauth2 is the SASL mechanism Gmail and Microsoft 365 use for OAuth 2.0
// bearer tokens.
const xoauth2 = "XOAUTH2"

// session is a memserver session whose IDLE wakes at every append, and
// which applies the faults of the server's Options.
type session struct {
	imapserver.SessionIMAP4rev2
	server *Server
	user   string // set at login
}

var _ imapserver.SessionSASL = (*session)(nil)

// Append appends as memserver does, then wakes the sessions in IDLE.
func (s *session) Append(mailbox string, r imap.LiteralReader, options *imap.AppendOptions) (*imap.AppendData, error) {
	data, err := s.SessionIMAP4rev2.Append(mailbox, r, options)
	if err == nil {
		s.server.appended()
	}
	return data, err
}

// Idle writes pending updates, then again after every append, until stop.
func (s *session) Idle(w *imapserver.UpdateWriter, stop <-chan struct{}) error {
	for {
		changes := s.server.changes()
		if err := s.Poll(w, true); err != nil {
			return err
		}
		select {
		case <-stop:
			return nil
		case <-changes:
		}
	}
}

// Login logs in as memserver does and remembers the user for Closed.
func (s *session) Login(username, password string) error {
	if err := s.SessionIMAP4rev2.Login(username, password); err != nil {
		return err
	}
	s.user = username
	return nil
}

// Close reports the session's user to Options.Closed, without blocking.
func (s *session) Close() error {
	if s.server.opts.Closed != nil {
		select {
		case s.server.opts.Closed <- s.user:
		default:
		}
	}
	return s.SessionIMAP4rev2.Close()
}

var errCannotWrite = &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeCannot, Text: "folder is read-only"}

// Copy refuses Options.FailCopy.
func (s *session) Copy(numSet imap.NumSet, dest string) (*imap.CopyData, error) {
	if fail := s.server.opts.FailCopy; fail != "" && dest == fail {
		return nil, errCannotWrite
	}
	return s.SessionIMAP4rev2.Copy(numSet, dest)
}

// Move refuses Options.FailCopy.
func (s *session) Move(w *imapserver.MoveWriter, numSet imap.NumSet, dest string) error {
	if fail := s.server.opts.FailCopy; fail != "" && dest == fail {
		return errCannotWrite
	}
	return s.SessionIMAP4rev2.Move(w, numSet, dest)
}

// AuthenticateMechanisms offers PLAIN, and XOAUTH2 when a token is set.
func (s *session) AuthenticateMechanisms() []string {
	if s.server.opts.XOAUTH2Token != "" {
		return []string{"PLAIN", xoauth2}
	}
	return []string{"PLAIN"}
}

// Authenticate serves PLAIN through Login, refusing an identity other than
// the user as imapserver's own PLAIN does, and XOAUTH2 when a token is set.
func (s *session) Authenticate(mech string) (sasl.Server, error) {
	switch mech {
	case "PLAIN":
		return sasl.NewPlainServer(func(identity, username, password string) error {
			if identity != "" && identity != username {
				return &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeAuthorizationFailed, Text: "SASL identity not supported"}
			}
			return s.Login(username, password)
		}), nil
	case xoauth2:
		if s.server.opts.XOAUTH2Token != "" {
			return &xoauth2Server{session: s}, nil
		}
	}
	return nil, &imap.Error{Type: imap.StatusResponseTypeNo, Text: "SASL mechanism not supported"}
}

// xoauth2Server accepts Options.XOAUTH2Token for the server's user; for any
// other answer it sends Gmail's error challenge. The client must then cancel
// the exchange ("*", answered BAD by imapserver before Next is called); any
// other answer is refused with a BAD naming it.
type xoauth2Server struct {
	session    *session
	challenged bool
}

func (x *xoauth2Server) Next(resp []byte) ([]byte, bool, error) {
	if x.challenged {
		return nil, false, &imap.Error{Type: imap.StatusResponseTypeBad, Text: fmt.Sprintf("want a cancel, got %q", resp)}
	}
	srv := x.session.server
	want := "user=" + srv.username + "\x01auth=Bearer " + srv.opts.XOAUTH2Token + "\x01\x01"
	if string(resp) == want {
		return nil, true, x.session.Login(srv.username, srv.password)
	}
	x.challenged = true
	return []byte(`{"status":"401","schemes":"bearer","scope":"https://mail.google.com/"}`), false, nil
}
