package mailin

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/emersion/go-sasl"
)

// XOAUTH2 is the name of the SASL mechanism Gmail and Microsoft 365 use for
// OAuth 2.0 bearer tokens. It predates, and differs from, OAUTHBEARER
// (RFC 7628), the only OAuth mechanism go-sasl implements.
const XOAUTH2 = "XOAUTH2"

// XOAUTH2Error is the JSON object a server sends as a challenge when it
// refuses a token, e.g. {"status":"401","schemes":"bearer","scope":"..."}.
type XOAUTH2Error struct {
	Status  string `json:"status"`
	Schemes string `json:"schemes"`
	Scope   string `json:"scope"`
}

// Error implements error. It never includes the token.
func (e *XOAUTH2Error) Error() string {
	msg := "xoauth2: token refused, status " + e.Status
	if e.Scope != "" {
		msg += ", scope " + e.Scope
	}
	return msg
}

// xoauth2Client is a SASL client that authenticates username with an OAuth
// 2.0 bearer token. When the server refuses the token it sends an error
// challenge: Next returns it as an *XOAUTH2Error, and the caller must end the
// exchange by cancelling it (a line "*", RFC 3501 §6.2.2), which go-imap's
// Authenticate does not do (the Poller does), then close the connection.
type xoauth2Client struct {
	username, token string
}

var _ sasl.Client = (*xoauth2Client)(nil)

var errXOAUTH2Separator = errors.New("xoauth2: username or token contains a ^A byte")

// Start returns the initial response
// "user=" USER ^A "auth=Bearer " TOKEN ^A ^A.
func (c *xoauth2Client) Start() (mech string, ir []byte, err error) {
	if strings.ContainsRune(c.username, '\x01') || strings.ContainsRune(c.token, '\x01') {
		return "", nil, errXOAUTH2Separator
	}
	return XOAUTH2, []byte("user=" + c.username + "\x01auth=Bearer " + c.token + "\x01\x01"), nil
}

// Next handles the only challenge XOAUTH2 has, the server's error report:
// it returns it as an *XOAUTH2Error and answers nothing. The mechanism
// would have the client answer with an empty response, but go-imap sends
// that as "=" (go-imap#760), which Dovecot rejects as invalid base64; a
// cancel ends the exchange on every server.
func (c *xoauth2Client) Next(challenge []byte) ([]byte, error) {
	refusal := &XOAUTH2Error{}
	if err := json.Unmarshal(challenge, refusal); err != nil || refusal.Status == "" {
		refusal = &XOAUTH2Error{Status: fmt.Sprintf("unreadable challenge of %d bytes", len(challenge))}
	}
	return nil, refusal
}
