// Package authres reads what our own MTA recorded in Authentication-Results
// header fields (RFC 8601): the DMARC result of a mail, trusted only from
// the headers of our authserv-id on top of the mail.
package authres

import "strings"

// DMARC returns the DMARC result ("pass", "fail", "none", …; "" when no
// trusted header gives one) that our own MTA recorded (RFC 8601). headers
// are the Authentication-Results values, topmost first; authservID is the
// authserv-id of our MTA ("" trusts no header). Only the headers of that
// authserv-id above the first header of another id count: our MTA adds its
// header on top and removes forged ones of its id, so anything below a
// foreign header, and any header of another id, is the sender's word. The
// first dmarc result of those headers wins; a header without one gives
// nothing, and neither does a missing header: "" never proves anything.
func DMARC(headers []string, authservID string) string {
	if authservID == "" {
		return ""
	}
	for _, h := range headers {
		id, results, _ := strings.Cut(h, ";")
		if fields := strings.Fields(id); len(fields) == 0 || !strings.EqualFold(fields[0], authservID) {
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
// nothing; so does a dmarc method with an empty result ("dmarc=").
func dmarcIn(results string) string {
	for _, r := range strings.Split(dropComments(results), ";") {
		method, value, ok := strings.Cut(strings.TrimSpace(r), "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(method), "dmarc") {
			continue
		}
		if words := strings.Fields(value); len(words) > 0 {
			return strings.ToLower(words[0])
		}
		return "" // "dmarc=" with no result: nothing recorded
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
