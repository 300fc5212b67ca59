package desk

import (
	"fmt"
	"strings"
	"time"

	"github.com/postdesk/postdesk/store"
)

// automatic reports whether mail of this kind is sent by the desk on its
// own, without a person writing it: such mail is rate limited per
// recipient. Agents' replies are written by people; alerts, notices and
// transcripts go to the support team, whom the limit does not protect.
func automatic(kind string) bool {
	switch kind {
	case store.MailReply, store.MailAlert, store.MailNotice, store.MailTranscript:
		return false
	}
	return true
}

// hourWindow is the fixed window rate counters use.
func hourWindow(now time.Time) time.Time { return now.Truncate(time.Hour) }

// limitAutomatic leaves out the recipients who already got
// AutorepliesPerHour automatic mails this hour, recording an event for each
// (RFC 3834 §2: responders must not flood a recipient). It reports whether
// anyone is left.
func (d *Desk) limitAutomatic(tx *store.Tx, it *store.OutboxItem, now time.Time) (bool, error) {
	if !automatic(it.Kind) || d.o.AutorepliesPerHour < 0 {
		return true, nil
	}
	keep := func(addrs []string) ([]string, error) {
		var out []string
		for _, a := range addrs {
			n, err := tx.Bump("auto:"+addrKey(a), hourWindow(now))
			if err != nil {
				return nil, err
			}
			if n <= d.o.AutorepliesPerHour {
				out = append(out, a)
				continue
			}
			if it.CaseID != 0 {
				detail := fmt.Sprintf("%s to %s: over %d automatic mails an hour", it.Kind, a, d.o.AutorepliesPerHour)
				if err := addEvent(tx, it.CaseID, now, EventMailSuppressed, detail); err != nil {
					return nil, err
				}
			}
		}
		return out, nil
	}
	var err error
	if it.To, err = keep(it.To); err != nil {
		return false, err
	}
	if it.Cc, err = keep(it.Cc); err != nil {
		return false, err
	}
	if len(it.To) == 0 {
		it.To, it.Cc = it.Cc, nil
	}
	return len(it.To) > 0, nil
}

// senderKey is the key of a sender for rate limits: its address key
// without a plus-tag, so that eve+1@ … eve+30@ count as one sender (they
// stay different addresses for participation).
func senderKey(addr string) string {
	k := addrKey(addr)
	at := strings.LastIndexByte(k, '@')
	if at < 0 {
		return k
	}
	if plus := strings.IndexByte(k[:at], '+'); plus > 0 {
		return k[:plus] + k[at:]
	}
	return k
}

// tooManyCases counts a new case by sender and reports whether the sender
// is over NewCasesPerHour. The first time in an hour it is, the notify list
// is alerted.
func (d *Desk) tooManyCases(tx *store.Tx, in *Inbound, now time.Time) (bool, error) {
	if d.o.NewCasesPerHour < 0 {
		return false, nil
	}
	n, err := tx.Bump("new:"+senderKey(in.From), hourWindow(now))
	if err != nil || n <= d.o.NewCasesPerHour {
		return false, err
	}
	if n == d.o.NewCasesPerHour+1 {
		reason := fmt.Sprintf("%s sent more than %d new cases this hour; further new mail is held", in.From, d.o.NewCasesPerHour)
		err = enqueueAlert(tx, d.alert(0, store.Notice{Subject: caseSubject(d.tag, in.Subject), Requester: in.From, Reason: reason}, now))
	}
	return true, err
}

// dmarc returns the DMARC result ("pass", "fail", "none", …; "" when no
// trusted header gives one) that our own MTA recorded (RFC 8601). Only the
// Authentication-Results headers of the configured authserv-id above the
// first header of another id count: our MTA adds its header on top and
// removes forged ones of its id, so anything below a foreign header, and
// any header of another id, is the sender's word. The first dmarc result
// of those headers wins; a header without one gives nothing, and neither
// does a missing header: "" never proves anything.
func (d *Desk) dmarc(in *Inbound) string {
	if d.o.AuthservID == "" {
		return ""
	}
	for _, h := range in.AuthResults {
		id, results, _ := strings.Cut(h, ";")
		if fields := strings.Fields(id); len(fields) == 0 || !strings.EqualFold(fields[0], d.o.AuthservID) {
			return ""
		}
		if r := dmarcIn(results); r != "" {
			return r
		}
	}
	return ""
}

// dmarcIn returns the dmarc method's result in the resinfo list of one
// Authentication-Results header, "" when it has none. Comments in
// parentheses are dropped first, so "(dmarc=pass)" in a comment counts for
// nothing.
func dmarcIn(results string) string {
	for _, r := range strings.Split(dropComments(results), ";") {
		method, value, ok := strings.Cut(strings.TrimSpace(r), "=")
		if ok && strings.EqualFold(strings.TrimSpace(method), "dmarc") {
			return strings.ToLower(strings.Fields(value + " ")[0])
		}
	}
	return ""
}

// dropComments removes RFC 5322 comments, nested ones too.
func dropComments(s string) string {
	var b strings.Builder
	depth := 0
	for _, r := range s {
		switch {
		case r == '(':
			depth++
		case r == ')' && depth > 0:
			depth--
		case depth == 0:
			b.WriteRune(r)
		}
	}
	return b.String()
}
