package dovecot

import (
	"errors"
	"fmt"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// clientTimeout bounds each IMAP command of Append and Count.
const clientTimeout = 20 * time.Second

// login opens a session as user.
func (s *Server) login(user string) (*imapclient.Client, error) {
	password, ok := s.users[user]
	if !ok {
		return nil, fmt.Errorf("dovecot: no user %q", user)
	}
	c, err := imapclient.DialInsecure(s.addr, nil)
	if err != nil {
		return nil, fmt.Errorf("dovecot: connect: %w", err)
	}
	// A server that stops answering must not hang a test.
	guard := time.AfterFunc(clientTimeout, func() { c.Close() })
	defer guard.Stop()
	if err := c.Login(user, password).Wait(); err != nil {
		c.Close()
		return nil, fmt.Errorf("dovecot: login as %s: %w", user, err)
	}
	return c, nil
}

// Append delivers raw into user's mailbox (created when missing), as an
// MDA would: an IMAP APPEND by that user.
func (s *Server) Append(user, mailbox string, raw []byte) error {
	c, err := s.login(user)
	if err != nil {
		return err
	}
	defer c.Close()
	guard := time.AfterFunc(clientTimeout, func() { c.Close() })
	defer guard.Stop()
	err = appendOnce(c, mailbox, raw)
	var imapErr *imap.Error
	if errors.As(err, &imapErr) && imapErr.Code == imap.ResponseCodeTryCreate {
		if err := c.Create(mailbox, nil).Wait(); err != nil {
			return fmt.Errorf("dovecot: create %s: %w", mailbox, err)
		}
		err = appendOnce(c, mailbox, raw)
	}
	if err != nil {
		return fmt.Errorf("dovecot: append to %s of %s: %w", mailbox, user, err)
	}
	return c.Logout().Wait()
}

func appendOnce(c *imapclient.Client, mailbox string, raw []byte) error {
	cmd := c.Append(mailbox, int64(len(raw)), nil)
	if _, err := cmd.Write(raw); err != nil {
		cmd.Close()
		return err
	}
	if err := cmd.Close(); err != nil {
		return err
	}
	_, err := cmd.Wait()
	return err
}

// Count reports how many messages user's mailbox holds; 0 when it does not
// exist.
func (s *Server) Count(user, mailbox string) (int, error) {
	c, err := s.login(user)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	guard := time.AfterFunc(clientTimeout, func() { c.Close() })
	defer guard.Stop()
	st, err := c.Status(mailbox, &imap.StatusOptions{NumMessages: true}).Wait()
	if err != nil {
		// Dovecot's NO to STATUS of a missing mailbox has no NONEXISTENT
		// code: LIST tells.
		if list, lerr := c.List("", mailbox, nil).Collect(); lerr == nil && len(list) == 0 {
			return 0, c.Logout().Wait()
		}
		return 0, fmt.Errorf("dovecot: status of %s of %s: %w", mailbox, user, err)
	}
	if st.NumMessages == nil {
		return 0, fmt.Errorf("dovecot: status of %s of %s: no MESSAGES", mailbox, user)
	}
	return int(*st.NumMessages), c.Logout().Wait()
}
