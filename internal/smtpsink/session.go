package smtpsink

import (
	"errors"
	"io"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// session is one SMTP session's state: from the EHLO that opens it to the
// end of the connection or STARTTLS.
type session struct {
	sink   *Sink
	conn   *smtp.Conn
	user   string
	from   string
	to     []string
	reject int // the code refusing every RCPT of this transaction; 0 = accept
}

var _ smtp.AuthSession = (*session)(nil)

// newSession opens a session at EHLO or HELO, as Script.Helo answers.
func (s *Sink) newSession(c *smtp.Conn) (smtp.Session, error) {
	s.sawHelo(c.Hostname())
	ss := &session{sink: s, conn: c}
	if h := s.script.Helo; h != nil {
		if err := ss.answer(h(c.Hostname())); err != nil {
			return nil, err
		}
	}
	return ss, nil
}

// answer turns what a Script hook returned into what go-smtp replies: a
// *Reply into its *smtp.SMTPError; ErrDrop closes the connection first.
func (ss *session) answer(err error) error {
	var r *Reply
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrDrop):
		ss.conn.Conn().Close()
		return err
	case errors.As(err, &r):
		return &smtp.SMTPError{Code: r.Code, EnhancedCode: smtp.EnhancedCode(r.Enhanced), Message: r.Message}
	}
	return err
}

func (ss *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (ss *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		ss.user = username
		return nil
	}), nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	n := ss.sink.sawMail()
	if h := ss.sink.script.Mail; h != nil {
		if err := ss.answer(h(n)); err != nil {
			return err
		}
	}
	ss.from, ss.to = from, nil
	ss.reject = ss.sink.takeRejection()
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if ss.reject != 0 {
		return &smtp.SMTPError{
			Code:         ss.reject,
			EnhancedCode: smtp.EnhancedCode{ss.reject / 100, 0, 0},
			Message:      "refused by smtpsink as asked",
		}
	}
	ss.to = append(ss.to, to)
	return nil
}

// Data reads the message, as Script.BeforeData and Script.AfterData say,
// and records it.
func (ss *session) Data(r io.Reader) error {
	n := ss.sink.dataBegins()
	if h := ss.sink.script.BeforeData; h != nil {
		h(n, ss.sink.closing)
	}
	data, err := io.ReadAll(r)
	ss.sink.dataRead(n, data)
	if err != nil {
		return err
	}
	if h := ss.sink.script.AfterData; h != nil {
		if err := ss.answer(h(n)); err != nil {
			return err
		}
	}
	ss.sink.deliver(Received{From: ss.from, To: ss.to, Data: data, User: ss.user})
	return nil
}

func (ss *session) Reset() { ss.from, ss.to, ss.reject = "", nil, 0 }

func (ss *session) Logout() error { return nil }
