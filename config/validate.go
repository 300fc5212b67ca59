package config

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/postdesk/postdesk/desk"
	"github.com/postdesk/postdesk/threading"
)

// problems collects validation errors.
type problems struct{ errs []error }

// add records that the value at key is wrong.
func (p *problems) add(key, format string, args ...any) {
	p.errs = append(p.errs, &ConfigError{Key: key, Msg: key + ": " + fmt.Sprintf(format, args...)})
}

// oneOf checks that the string at key is one of allowed.
func (p *problems) oneOf(key, v string, allowed []string) {
	if !slices.Contains(allowed, v) {
		p.add(key, "%q is not one of %s", v, strings.Join(allowed, ", "))
	}
}

// port checks a TCP port number.
func (p *problems) port(key string, v int) {
	if v < 1 || v > 65535 {
		p.add(key, "%d is not a port number (1 to 65535)", v)
	}
}

// positive checks a count or size that must be above zero.
func (p *problems) positive(key string, v int64) {
	if v <= 0 {
		p.add(key, "must be positive, not %d", v)
	}
}

// address checks a bare e-mail address (RFC 5322 addr-spec, no display name).
func (p *problems) address(key, v string) {
	if err := checkAddrSpec(v); err != nil {
		p.add(key, "%v", err)
	}
}

// timezone checks an IANA time zone name.
func (p *problems) timezone(key, v string) {
	if _, err := time.LoadLocation(v); err != nil || v == "" || v == "Local" {
		p.add(key, "%q is not a time zone name such as \"UTC\" or \"Europe/Paris\"", v)
	}
}

// checkAddrSpec reports why s is not a bare addr-spec such as
// "support@example.com".
func checkAddrSpec(s string) error {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s || !strings.Contains(s, "@") {
		return fmt.Errorf("%q is not a bare e-mail address such as \"support@example.com\"", s)
	}
	return nil
}

// Validate checks every value and returns all problems found, joined, each a
// *ConfigError naming its key.
func (c *Config) Validate() error {
	p := &problems{}
	c.validateDesk(p)
	c.validateAgents(p)
	c.validateLimits(p)
	for i := range c.Mailboxes {
		c.validateMailbox(p, i)
	}
	c.validateSMTP(p)
	c.validateHTTP(p)
	seen := map[string]bool{}
	for i, cu := range c.Customers {
		key := fmt.Sprintf("customer[%d]", i)
		if err := checkMatch(cu.Match); err != nil {
			p.add(key+".match", "%v", err)
		} else if seen[threading.AddressKey(cu.Match)] {
			p.add(key+".match", "%q is matched by an earlier [[customer]]", cu.Match)
		}
		seen[threading.AddressKey(cu.Match)] = true
		if _, ok := c.Plans[cu.Plan]; cu.Plan != "" && !ok {
			p.add(key+".plan", "unknown plan %q (plans: %s)", cu.Plan, c.planNames())
		}
		if cu.Language != "" {
			p.oneOf(key+".language", cu.Language, languages)
		}
		if cu.Timezone != "" {
			p.timezone(key+".timezone", cu.Timezone)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(c.Plans)) {
		validatePlan(p, "plans."+name, c.Plans[name])
	}
	sla := c.SLA.Targets()
	for _, sev := range severities {
		if sla[sev] <= 0 {
			p.add("sla."+sev, "target must be positive, not %v", sla[sev])
		}
	}
	c.validateBusinessHours(p)
	return errors.Join(p.errs...)
}

// validateDesk checks [desk].
func (c *Config) validateDesk(p *problems) {
	d := c.Desk
	p.address("desk.address", d.Address)
	if strings.ContainsFunc(d.Name, unicode.IsControl) {
		p.add("desk.name", "%q contains control characters", d.Name)
	}
	if d.Tag == "" || strings.ContainsFunc(d.Tag, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		p.add("desk.tag", "%q must be one word of letters and digits, such as \"Case\"", d.Tag)
	}
	if d.Database == "" {
		p.add("desk.database", "must name the SQLite database file")
	}
	if d.SecretFile == "" {
		p.add("desk.secret_file", "must name the file holding the HMAC key")
	}
	comment := d.CommentAddressOrDefault()
	for i, a := range d.Agents {
		p.address(fmt.Sprintf("desk.agents[%d]", i), a)
		if sameAddress(a, d.Address) {
			p.add(fmt.Sprintf("desk.agents[%d]", i), "%q is the desk's own address", a)
		} else if sameAddress(a, comment) {
			p.add(fmt.Sprintf("desk.agents[%d]", i), "%q is the desk's comment address", a)
		}
	}
	// The default from a bad desk.address is not reported a second time.
	if d.CommentAddress != "" || checkAddrSpec(d.Address) == nil {
		p.address("desk.comment_address", comment)
		if sameAddress(comment, d.Address) {
			p.add("desk.comment_address", "%q is desk.address; internal replies need an address of their own", comment)
		}
	}
	for i, a := range d.Notify {
		p.address(fmt.Sprintf("desk.notify[%d]", i), a)
	}
	p.oneOf("desk.default_language", d.DefaultLanguage, languages)
	p.timezone("desk.timezone", d.Timezone)
	if _, ok := c.Plans[d.DefaultPlan]; !ok {
		p.add("desk.default_plan", "unknown plan %q (plans: %s)", d.DefaultPlan, c.planNames())
	}
	if d.ReopenDays < 0 {
		p.add("desk.reopen_days", "must be 0 or more, not %d", d.ReopenDays)
	}
	if d.AutocloseDays < 0 {
		p.add("desk.autoclose_days", "must be 0 or more, not %d", d.AutocloseDays)
	}
}

// validateAgents checks each [[agent]] and the agents of each [[mailbox]]:
// every address must be one of desk.agents, with at most one [[agent]] each.
func (c *Config) validateAgents(p *problems) {
	for i, a := range c.Agents {
		key := fmt.Sprintf("agent[%d]", i)
		switch {
		case checkAddrSpec(a.Address) != nil:
			p.address(key+".address", a.Address)
		case !c.isAgent(a.Address):
			p.add(key+".address", "%q is not listed in desk.agents", a.Address)
		case slices.ContainsFunc(c.Agents[:i], func(o AgentConfig) bool { return sameAddress(o.Address, a.Address) }):
			p.add(key+".address", "%q already has an earlier [[agent]]", a.Address)
		}
		if strings.ContainsFunc(a.Name, unicode.IsControl) {
			p.add(key+".name", "%q must be one line without control characters", a.Name)
		}
		if a.Notify != "" { // "" is the default, "all"
			p.oneOf(key+".notify", a.Notify, desk.NotifyValues())
		}
	}
	for i, m := range c.Mailboxes {
		for j, a := range m.Agents {
			if !c.isAgent(a) {
				p.add(fmt.Sprintf("mailbox[%d].agents[%d]", i, j), "%q is not listed in desk.agents", a)
			}
		}
	}
}

// isAgent reports whether addr is one of desk.agents.
func (c *Config) isAgent(addr string) bool {
	return slices.ContainsFunc(c.Desk.Agents, func(a string) bool { return sameAddress(a, addr) })
}

// sameAddress reports whether a and b are one address by the desk's one
// rule, threading.AddressKey: ASCII letters compared without case, no
// Unicode folding (the Kelvin sign "K" is not "k").
func sameAddress(a, b string) bool { return threading.AddressKey(a) == threading.AddressKey(b) }

// validateLimits checks [limits].
func (c *Config) validateLimits(p *problems) {
	l := c.Limits
	p.positive("limits.attachments_per_message", int64(l.AttachmentsPerMessage))
	p.positive("limits.attachment_bytes", l.AttachmentBytes)
	p.positive("limits.message_bytes", l.MessageBytes)
	p.positive("limits.contacts", int64(l.Contacts))
	p.positive("limits.autoreplies_per_hour", int64(l.AutorepliesPerHour))
	p.positive("limits.new_cases_per_sender_per_hour", int64(l.NewCasesPerSenderPerHour))
	p.positive("limits.text_bytes", l.TextBytes)
	if l.Contacts > maxContacts {
		p.add("limits.contacts", "at most %d contacts per case, not %d", maxContacts, l.Contacts)
	}
	if l.MessageBytes > 0 && l.AttachmentBytes > l.MessageBytes {
		p.add("limits.attachment_bytes", "%d is larger than limits.message_bytes (%d)", l.AttachmentBytes, l.MessageBytes)
	}
}

// validateMailbox checks the i-th [[mailbox]].
func (c *Config) validateMailbox(p *problems, i int) {
	m, key := c.Mailboxes[i], fmt.Sprintf("mailbox[%d]", i)
	if m.Name == "" {
		p.add(key+".name", "every mailbox needs a name")
	} else if slices.ContainsFunc(c.Mailboxes[:i], func(o MailboxConfig) bool { return o.Name == m.Name }) {
		p.add(key+".name", "%q is the name of an earlier mailbox", m.Name)
	}
	if m.Host == "" {
		p.add(key+".host", "the IMAP server is missing")
	}
	p.port(key+".port", m.Port)
	p.oneOf(key+".tls", m.TLS, tlsModes)
	p.transport(key, m.TLS, m.Host, m.TLSCAFile, true) // a mailbox always logs in
	if m.Username == "" {
		p.add(key+".username", "the IMAP login name is missing")
	}
	if n := countSet(m.Password, m.PasswordFile, m.OAuth2TokenCommand); n != 1 {
		p.add(key+".password", "set exactly one of password, password_file and oauth2_token_command (%d set)", n)
	}
	if m.Processed == m.Folder || m.Quarantine == m.Folder {
		p.add(key+".folder", "%q cannot also be the processed or quarantine folder", m.Folder)
	}
	p.oneOf(key+".case_type", m.CaseType, caseTypes)
	if m.PollInterval.Duration < time.Second {
		p.add(key+".poll_interval", "%v is shorter than 1s", m.PollInterval.Duration)
	}
}

// validateSMTP checks [smtp] when a server is set.
func (c *Config) validateSMTP(p *problems) {
	s := c.SMTP
	if s.Host == "" {
		return
	}
	p.port("smtp.port", s.Port)
	p.oneOf("smtp.tls", s.TLS, tlsModes)
	p.transport("smtp", s.TLS, s.Host, s.TLSCAFile, s.Username != "")
	switch n := countSet(s.Password, s.PasswordFile); {
	case n > 1:
		p.add("smtp.password", "set password or password_file, not both")
	case n == 1 && s.Username == "":
		p.add("smtp.username", "a password is set but no username")
	case n == 0 && s.Username != "":
		p.add("smtp.password", "username %q needs a password or password_file", s.Username)
	}
	if s.RetryFirst.Duration < time.Second { // shorter, a server that is down would be dialled many times a second
		p.add("smtp.retry_first", "%v is shorter than 1s", s.RetryFirst.Duration)
	}
	p.duration("smtp.retry_max", s.RetryMax.Duration)
	p.duration("smtp.give_up_after", s.GiveUpAfter.Duration)
	if s.RetryFirst.Duration > 0 && s.RetryMax.Duration > 0 && s.RetryFirst.Duration > s.RetryMax.Duration {
		p.add("smtp.retry_max", "%v is shorter than smtp.retry_first (%v)", s.RetryMax.Duration, s.RetryFirst.Duration)
	}
	if s.Helo != "" {
		if err := checkHelo(s.Helo); err != nil {
			p.add("smtp.helo", "%v", err)
		}
	}
}

// duration checks a duration that must be above zero.
func (p *problems) duration(key string, v time.Duration) {
	if v <= 0 {
		p.add(key, "must be positive, not %v", v)
	}
}

// checkHelo reports why s is not a fully qualified host name to greet an
// SMTP server with (RFC 5321 §4.1.1.1: the client's "primary host name";
// servers that enforce it, such as Postfix with
// reject_non_fqdn_helo_hostname, refuse a name without a dot): letters,
// digits and hyphens in labels of 1 to 63, at least two labels, at most 253
// characters, the last label not all digits (an IP address is not a name).
func checkHelo(s string) error {
	bad := fmt.Errorf("%q is not a fully qualified host name such as \"mail.example.com\"", s)
	labels := strings.Split(s, ".")
	if len(s) > 253 || len(labels) < 2 {
		return bad
	}
	for _, l := range labels {
		if len(l) == 0 || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return bad
		}
		if strings.ContainsFunc(l, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-')
		}) {
			return bad
		}
	}
	if last := labels[len(labels)-1]; strings.Trim(last, "0123456789") == "" {
		return bad
	}
	return nil
}

// transport checks tls and tls_ca_file of the server table at key (DESIGN
// §14): credentials never go in clear text to a host other than loopback,
// and a CA file is of use only with TLS and must hold a certificate.
func (p *problems) transport(key, mode, host, caFile string, credentials bool) {
	if mode == "none" && credentials && host != "" && !isLoopback(host) {
		p.add(key+".tls", `"none" would send the credentials in clear text to %s: use "implicit" or "starttls" (plain text is for loopback only: 127.0.0.0/8, ::1, localhost)`, host)
	}
	if caFile == "" {
		return
	}
	if mode == "none" {
		p.add(key+".tls_ca_file", `is of no use with tls = "none"`)
	} else if _, err := LoadCAFile(caFile); err != nil {
		p.add(key+".tls_ca_file", "%v", err)
	}
}

// isLoopback reports whether host is "localhost" or a loopback address
// (127.0.0.0/8, ::1), with or without brackets.
func isLoopback(host string) bool {
	h := strings.TrimSuffix(strings.Trim(host, "[]"), ".")
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// validateHTTP checks [http].
func (c *Config) validateHTTP(p *problems) {
	h := c.HTTP
	if h.Listen != "" {
		if _, port, err := net.SplitHostPort(h.Listen); err != nil || port == "" {
			p.add("http.listen", "%q is not host:port such as \"127.0.0.1:8025\"", h.Listen)
		}
	}
	if h.PublicURL != "" {
		u, err := url.Parse(h.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			p.add("http.public_url", "%q is not an http(s) URL such as \"https://support.example.com\"", h.PublicURL)
		}
	}
	p.duration("http.health_outbox_age", h.HealthOutboxAge.Duration)
}

// validatePlan checks one [plans.NAME] table.
func validatePlan(p *problems, key string, pl PlanConfig) {
	p.oneOf(key+".max_severity", pl.MaxSeverity, severities)
	p.oneOf(key+".hours", pl.Hours, planHours)
	if pl.Contacts < 0 || pl.Contacts > maxContacts {
		p.add(key+".contacts", "must be 0 to %d, not %d", maxContacts, pl.Contacts)
	}
	if pl.CriticalTarget.Duration < 0 {
		p.add(key+".critical_target", "must not be negative")
	}
}

// validateBusinessHours checks [business_hours].
func (c *Config) validateBusinessHours(p *problems) {
	b := c.BusinessHours
	start, err1 := ParseClock(b.Start)
	if err1 != nil {
		p.add("business_hours.start", "%v", err1)
	}
	end, err2 := ParseClock(b.End)
	if err2 != nil {
		p.add("business_hours.end", "%v", err2)
	}
	if err1 == nil && err2 == nil && start >= end {
		p.add("business_hours.end", "%s is not after start %s", b.End, b.Start)
	}
	if len(b.Days) == 0 {
		p.add("business_hours.days", "at least one day is needed")
	}
	for i, d := range b.Days {
		p.oneOf(fmt.Sprintf("business_hours.days[%d]", i), d, weekdays)
	}
	for i, h := range b.Holidays {
		if _, err := time.Parse(time.DateOnly, h); err != nil {
			p.add(fmt.Sprintf("business_hours.holidays[%d]", i), "%q is not a date written YYYY-MM-DD", h)
		}
	}
}

// ParseClock parses a [business_hours] time of day, "HH:MM" (00:00 to
// 24:00), into the time since midnight.
func ParseClock(s string) (time.Duration, error) {
	if s == "24:00" {
		return 24 * time.Hour, nil
	}
	t, err := time.Parse("15:04", s)
	if err != nil || len(s) != 5 {
		return 0, fmt.Errorf("%q is not a time of day written HH:MM", s)
	}
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, nil
}

// checkMatch reports why a [[customer]] match is neither "@domain" nor an
// address.
func checkMatch(s string) error {
	if domain, ok := strings.CutPrefix(s, "@"); ok {
		if domain == "" || strings.ContainsAny(domain, "@ \t<>,;") || !strings.Contains(domain, ".") && domain != "localhost" {
			return fmt.Errorf("%q is not a domain written \"@acme.example\"", s)
		}
		return nil
	}
	if s == "" {
		return errors.New(`empty: write "@acme.example" for a domain or "alice@acme.example" for one address`)
	}
	return checkAddrSpec(s)
}

// countSet returns how many of values are not empty.
func countSet(values ...string) int {
	n := 0
	for _, v := range values {
		if v != "" {
			n++
		}
	}
	return n
}

// planNames lists the configured plans for error messages.
func (c *Config) planNames() string {
	return strings.Join(slices.Sorted(maps.Keys(c.Plans)), ", ")
}
