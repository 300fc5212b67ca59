// Package config is postdesk.toml: the TOML schema of DESIGN §6, its
// defaults (taken from desk.DefaultOptions where the desk has them), strict
// decoding and validation, every problem reported with its line and column.
// cmd/postdesk turns a Config into the options structs of the other
// packages; none of them sees a Config. The files a Config names are read
// here too: the Message-ID key (LoadSecret), passwords (SecretValue) and
// CA certificates (LoadCAFile).
package config

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"
	_ "time/tzdata" // time zones in [desk] and [[customer]] load on hosts without /usr/share/zoneinfo

	"github.com/pelletier/go-toml/v2"

	"github.com/postdesk/postdesk/desk"
)

// example is the documented example configuration. The repository root
// holds an identical copy.
//
//go:embed config.example.toml
var example []byte

// Example returns config.example.toml, the documented example configuration
// that "postdesk config example" prints. Each call returns a fresh copy.
func Example() []byte { return bytes.Clone(example) }

// Config is postdesk.toml: the schema of the configuration file, DESIGN §6.
// Decode it with Parse or Load so that defaults and strictness
// apply; other packages never see it, they get options structs built from it.
type Config struct {
	Desk          DeskConfig            `toml:"desk"`
	Agents        []AgentConfig         `toml:"agent"`
	Limits        LimitsConfig          `toml:"limits"`
	Mailboxes     []MailboxConfig       `toml:"mailbox"`
	SMTP          SMTPConfig            `toml:"smtp"`
	HTTP          HTTPConfig            `toml:"http"`
	Customers     []CustomerConfig      `toml:"customer"`
	Plans         map[string]PlanConfig `toml:"plans"`
	SLA           SLAConfig             `toml:"sla"`
	BusinessHours BusinessHoursConfig   `toml:"business_hours"`
}

// DeskConfig is the [desk] table: who the desk is and how cases behave.
type DeskConfig struct {
	Name            string   `toml:"name"`    // display name on outgoing mail
	Address         string   `toml:"address"` // From/Reply-To addr-spec
	Tag             string   `toml:"tag"`     // word in "[Case #1042]"
	Database        string   `toml:"database"`
	Agents          []string `toml:"agents"`
	Notify          []string `toml:"notify"` // told of escalations
	DefaultLanguage string   `toml:"default_language"`
	Timezone        string   `toml:"timezone"`
	DefaultPlan     string   `toml:"default_plan"`
	ReopenDays      int      `toml:"reopen_days"`     // 0: a reply never reopens (desk.Never, see cmd/postdesk deskOptions)
	AutocloseDays   int      `toml:"autoclose_days"`  // 0: pending cases never auto-close (desk.Never)
	SecretFile      string   `toml:"secret_file"`     // HMAC key, created if absent
	AuthservID      string   `toml:"authserv_id"`     // trusted Authentication-Results id; "" = none
	CommentAddress  string   `toml:"comment_address"` // agents' internal replies; "" = Address with +comment
}

// AgentConfig is one [[agent]]: the optional settings of an address in
// desk.agents (DESIGN §9). An agent without a table gets the defaults.
type AgentConfig struct {
	Address string `toml:"address"` // one of desk.agents
	Name    string `toml:"name"`    // shown to customers on this agent's answers
	Notify  string `toml:"notify"`  // "all" (default), "assigned" or "none"
}

// LimitsConfig is the [limits] table: attachment, size and rate limits.
type LimitsConfig struct {
	AttachmentsPerMessage    int   `toml:"attachments_per_message"`
	AttachmentBytes          int64 `toml:"attachment_bytes"`
	MessageBytes             int64 `toml:"message_bytes"`
	Contacts                 int   `toml:"contacts"`
	AutorepliesPerHour       int   `toml:"autoreplies_per_hour"`
	NewCasesPerSenderPerHour int   `toml:"new_cases_per_sender_per_hour"`
	TextBytes                int64 `toml:"text_bytes"` // text and HTML kept per message; the raw mail keeps all
}

// MailboxConfig is one [[mailbox]]: an IMAP folder to take mail from. Empty
// fields other than the server and credentials get their defaults.
type MailboxConfig struct {
	Name               string   `toml:"name"`
	Host               string   `toml:"host"`
	Port               int      `toml:"port"`
	TLS                string   `toml:"tls"` // implicit, starttls or none
	Username           string   `toml:"username"`
	Password           string   `toml:"password"`
	PasswordFile       string   `toml:"password_file"`
	OAuth2TokenCommand string   `toml:"oauth2_token_command"`
	TLSCAFile          string   `toml:"tls_ca_file"` // PEM CAs trusted instead of the system roots
	Folder             string   `toml:"folder"`
	Processed          string   `toml:"processed"`
	Quarantine         string   `toml:"quarantine"`
	CaseType           string   `toml:"case_type"`
	PollInterval       Duration `toml:"poll_interval"`
	Agents             []string `toml:"agents"` // whose cases this mailbox's are; empty: every agent
}

// SMTPConfig is the [smtp] table: where outgoing mail is submitted. With no
// host nothing is sent and the table is not checked.
type SMTPConfig struct {
	Host         string `toml:"host"`
	Port         int    `toml:"port"`
	TLS          string `toml:"tls"`
	Username     string `toml:"username"`
	Password     string `toml:"password"`
	PasswordFile string `toml:"password_file"`
	TLSCAFile    string `toml:"tls_ca_file"` // PEM CAs trusted instead of the system roots
	// Retries (DESIGN §10): a mail refused for now is tried again after
	// RetryFirst, the wait doubling up to RetryMax, until GiveUpAfter from
	// when it was queued.
	RetryFirst  Duration `toml:"retry_first"`
	RetryMax    Duration `toml:"retry_max"`
	GiveUpAfter Duration `toml:"give_up_after"`
	// Helo is the fully qualified name the desk greets the server with;
	// "" = the machine's name if it has a dot, else the domain of
	// desk.address (mailout's default).
	Helo string `toml:"helo"`
}

// HTTPConfig is the [http] table: the health, metrics and survey listener.
type HTTPConfig struct {
	Listen        string `toml:"listen"`         // host:port; empty: no listener
	PublicURL     string `toml:"public_url"`     // base of survey links; empty: from Listen
	MetricsPublic bool   `toml:"metrics_public"` // /metrics to every client, not only loopback ones
	// HealthOutboxAge is how long the oldest mail due may wait before
	// /healthz calls the desk unhealthy.
	HealthOutboxAge Duration `toml:"health_outbox_age"`
}

// CustomerConfig is one [[customer]]: maps a sender address or domain to a
// plan, language and time zone. Empty fields fall back to the [desk] defaults.
type CustomerConfig struct {
	Match    string `toml:"match"` // "@acme.example" or "alice@acme.example"
	Plan     string `toml:"plan"`
	Language string `toml:"language"`
	Timezone string `toml:"timezone"`
}

// PlanConfig is one [plans.NAME] table: what a support plan allows.
type PlanConfig struct {
	MaxSeverity    string   `toml:"max_severity"`
	Technical      bool     `toml:"technical"`       // technical cases accepted
	Contacts       int      `toml:"contacts"`        // additional contacts per case
	Hours          string   `toml:"hours"`           // "24x7" or "business"
	CriticalTarget Duration `toml:"critical_target"` // 0: [sla] critical
}

// SLAConfig is the [sla] table: first-response target per severity. Its
// keys are the names of desk.Severities (a test checks that they agree).
type SLAConfig struct {
	Low      Duration `toml:"low"`
	Normal   Duration `toml:"normal"`
	High     Duration `toml:"high"`
	Urgent   Duration `toml:"urgent"`
	Critical Duration `toml:"critical"`
}

// BusinessHoursConfig is the [business_hours] table, used by plans whose
// hours are "business", in the customer's time zone.
type BusinessHoursConfig struct {
	Start    string   `toml:"start"`    // "08:00"
	End      string   `toml:"end"`      // "18:00", after Start
	Days     []string `toml:"days"`     // "mon" … "sun"
	Holidays []string `toml:"holidays"` // "2026-12-25"
}

// Duration is a time.Duration written in TOML as a string such as "60s" or
// "4h".
type Duration struct{ time.Duration }

// UnmarshalText parses a duration string as time.ParseDuration does.
func (d *Duration) UnmarshalText(text []byte) error {
	v, err := time.ParseDuration(string(text))
	if err != nil {
		return fmt.Errorf("invalid duration %q: want a number with a unit, such as \"90s\", \"15m\" or \"4h\"", text)
	}
	d.Duration = v
	return nil
}

// MarshalText writes the duration in its shortest usual form ("4h", "1m30s").
func (d Duration) MarshalText() ([]byte, error) {
	s := d.Duration.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return []byte(s), nil
}

// Allowed values of enumerated keys.
var (
	severities = words(desk.Severities())
	tlsModes   = []string{"implicit", "starttls", "none"}
	caseTypes  = desk.CaseTypes()
	languages  = []string{"en", "fr", "ja"}
	planHours  = []string{"24x7", "business"}
	weekdays   = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"} // index = time.Weekday
)

// Weekdays returns the day names of [business_hours] days, "sun" to "sat",
// each at the index of its time.Weekday.
func Weekdays() []string { return slices.Clone(weekdays) }

// maxContacts is the most additional contacts a case can ever have (§4).
const maxContacts = 5

// DefaultConfig returns the configuration used for every key the file does
// not set: the defaults of DESIGN §4 and §6. The desk's keys take their
// values from desk.DefaultOptions; the rest (files, time zone, mail sizes,
// SMTP, HTTP, business hours) are the configuration's own. It has no
// address, mailbox or SMTP server, so it does not validate by itself.
func DefaultConfig() *Config {
	o := desk.DefaultOptions()
	return &Config{
		Desk: DeskConfig{
			Tag:             o.Tag,
			Database:        "postdesk.db",
			DefaultLanguage: o.DefaultLanguage,
			Timezone:        "UTC",
			DefaultPlan:     o.DefaultPlan,
			ReopenDays:      o.ReopenDays,
			AutocloseDays:   o.AutocloseDays,
			SecretFile:      "postdesk.key",
		},
		Limits: LimitsConfig{
			AttachmentsPerMessage:    o.AttachmentsPerMessage,
			AttachmentBytes:          o.AttachmentBytes,
			MessageBytes:             25 << 20,
			Contacts:                 o.Contacts,
			AutorepliesPerHour:       o.AutorepliesPerHour,
			NewCasesPerSenderPerHour: o.NewCasesPerHour,
			TextBytes:                1 << 20,
		},
		SMTP: SMTPConfig{TLS: "starttls", RetryFirst: Duration{time.Minute}, RetryMax: Duration{time.Hour},
			GiveUpAfter: Duration{120 * time.Hour}},
		HTTP:  HTTPConfig{Listen: "127.0.0.1:8025", HealthOutboxAge: Duration{15 * time.Minute}},
		Plans: planConfigs(o.Plans),
		SLA:   slaConfig(o.Targets),
		BusinessHours: BusinessHoursConfig{
			Start: "08:00",
			End:   "18:00",
			Days:  []string{"mon", "tue", "wed", "thu", "fri"},
		},
	}
}

// words returns the names of a list of desk's domain words.
func words[T ~string](list []T) []string {
	s := make([]string, len(list))
	for i, w := range list {
		s[i] = string(w)
	}
	return s
}

// slaConfig is the desk's first-response targets as configuration.
func slaConfig(targets map[desk.Severity]time.Duration) SLAConfig {
	var s SLAConfig
	for sev, d := range targets {
		*s.target(sev) = Duration{d}
	}
	return s
}

// planConfigs is the desk's plans as configuration.
func planConfigs(dp map[string]desk.Plan) map[string]PlanConfig {
	plans := make(map[string]PlanConfig, len(dp))
	for name, p := range dp {
		hours := "24x7"
		if p.BusinessHours {
			hours = "business"
		}
		plans[name] = PlanConfig{MaxSeverity: string(p.MaxSeverity), Technical: p.Technical, Contacts: p.Contacts,
			Hours: hours, CriticalTarget: Duration{p.CriticalTarget}}
	}
	return plans
}

// ConfigError is one problem with a configuration: a syntax error, an
// unknown key, a value of the wrong type or one that fails Validate. Its
// message reads "FILE:LINE:COL: MSG", leaving out what is unknown.
type ConfigError struct {
	File   string // set by Load
	Line   int    // 1-based; 0 when the position is unknown
	Column int    // 1-based
	Key    string // dotted key such as "smtp.host" or "mailbox[0].port"; may be empty
	Msg    string // what is wrong, starting with the key when there is one
	Err    error  // underlying error, if any
}

// Error returns the problem prefixed with its file and position.
func (e *ConfigError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File + ":")
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, "%d:%d:", e.Line, e.Column)
	}
	if b.Len() > 0 {
		b.WriteByte(' ')
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap returns the underlying error, such as a *toml.DecodeError.
func (e *ConfigError) Unwrap() error { return e.Err }

// Load reads, decodes and validates the configuration file at path.
// Every error message starts with path.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		msg := err.Error()
		if pe, ok := errors.AsType[*fs.PathError](err); ok {
			msg = pe.Err.Error()
		}
		return nil, &ConfigError{File: path, Msg: "read config: " + msg, Err: err}
	}
	c, err := Parse(data)
	if err == nil {
		err = locate(data, c.Validate())
	}
	if err != nil {
		return nil, inFile(path, err)
	}
	return c, nil
}

// inFile sets File on every *ConfigError in err, which is one ConfigError or
// an errors.Join of them.
func inFile(path string, err error) error {
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	for _, e := range errs {
		if ce, ok := errors.AsType[*ConfigError](e); ok {
			ce.File = path
		}
	}
	return err
}

// Parse decodes a TOML document over DefaultConfig. Unknown keys, syntax
// errors and values of the wrong type are errors (*ConfigError, joined when
// there are several) with line and column. It does not call Validate.
func Parse(data []byte) (*Config, error) {
	c := DefaultConfig()
	dec := toml.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(c); err != nil {
		return nil, decodeError(err)
	}
	c.fillMailboxDefaults()
	c.fillAgentDefaults()
	return c, nil
}

// decodeError turns a go-toml error into *ConfigError values with positions.
func decodeError(err error) error {
	if sm, ok := errors.AsType[*toml.StrictMissingError](err); ok {
		errs := make([]error, len(sm.Errors))
		for i := range sm.Errors {
			de := &sm.Errors[i]
			key := strings.Join(de.Key(), ".")
			ce := &ConfigError{Key: key, Msg: fmt.Sprintf("unknown key %q", key), Err: de}
			ce.Line, ce.Column = de.Position()
			errs[i] = ce
		}
		return errors.Join(errs...)
	}
	if de, ok := errors.AsType[*toml.DecodeError](err); ok {
		key := strings.Join(de.Key(), ".")
		msg := goTypeNoise.ReplaceAllString(strings.TrimPrefix(de.Error(), "toml: "), "")
		if key != "" {
			msg = key + ": " + msg
		}
		ce := &ConfigError{Key: key, Msg: msg, Err: de}
		ce.Line, ce.Column = de.Position()
		return ce
	}
	return &ConfigError{Msg: err.Error(), Err: err}
}

// goTypeNoise matches the Go names go-toml puts in type errors ("struct field
// config.SMTPConfig.Port of type int"), which mean nothing to the file's author.
var goTypeNoise = regexp.MustCompile(`struct field \S+ of type |config\.`)

// fillMailboxDefaults gives empty [[mailbox]] fields their defaults: go-toml
// builds array-of-tables elements from zero values, not from DefaultConfig.
func (c *Config) fillMailboxDefaults() {
	for i := range c.Mailboxes {
		m := &c.Mailboxes[i]
		setDefault(&m.TLS, "implicit")
		setDefault(&m.Folder, "INBOX")
		setDefault(&m.Processed, "Processed")
		setDefault(&m.Quarantine, "Quarantine")
		setDefault(&m.CaseType, "technical")
		if m.PollInterval.Duration == 0 {
			m.PollInterval.Duration = 60 * time.Second
		}
	}
}

// fillAgentDefaults gives desk.comment_address and empty [[agent]] fields
// their defaults, which depend on other keys or, for array-of-tables
// elements, are not taken from DefaultConfig. Without a valid desk address
// the comment address stays empty (Validate reports the desk address).
func (c *Config) fillAgentDefaults() {
	if checkAddrSpec(c.Desk.Address) == nil {
		setDefault(&c.Desk.CommentAddress, c.Desk.CommentAddressOrDefault())
	}
	for i := range c.Agents {
		setDefault(&c.Agents[i].Notify, desk.NotifyAll)
	}
}

// CommentAddressOrDefault is desk.comment_address, or by default the
// desk's own default for the desk address (desk.DefaultCommentAddress:
// support+comment@example.com); "" when neither is set.
func (d DeskConfig) CommentAddressOrDefault() string {
	if d.CommentAddress != "" {
		return d.CommentAddress
	}
	return desk.DefaultCommentAddress(d.Address)
}

// setDefault sets *s to def when it is empty.
func setDefault(s *string, def string) {
	if *s == "" {
		*s = def
	}
}

// Redacted returns a deep copy of c with every password replaced by
// "******", fit for printing or logging.
func (c *Config) Redacted() *Config {
	r := *c
	r.Desk.Agents = slices.Clone(c.Desk.Agents)
	r.Desk.Notify = slices.Clone(c.Desk.Notify)
	r.Agents = slices.Clone(c.Agents)
	r.Mailboxes = slices.Clone(c.Mailboxes)
	for i := range r.Mailboxes {
		r.Mailboxes[i].Agents = slices.Clone(c.Mailboxes[i].Agents)
		redact(&r.Mailboxes[i].Password)
	}
	redact(&r.SMTP.Password)
	r.Customers = slices.Clone(c.Customers)
	r.Plans = maps.Clone(c.Plans)
	r.BusinessHours.Days = slices.Clone(c.BusinessHours.Days)
	r.BusinessHours.Holidays = slices.Clone(c.BusinessHours.Holidays)
	return &r
}

// redact replaces a non-empty secret; an empty one stays empty so that a
// printed configuration still shows which credential is in use.
func redact(s *string) {
	if *s != "" {
		*s = "******"
	}
}

// Targets returns the first-response target of each severity name.
func (s SLAConfig) Targets() map[string]time.Duration {
	m := make(map[string]time.Duration, len(desk.Severities()))
	for _, sev := range desk.Severities() {
		m[string(sev)] = s.target(sev).Duration
	}
	return m
}

// target is the field of s that holds the target of sev; nil for a
// severity desk does not have.
func (s *SLAConfig) target(sev desk.Severity) *Duration {
	switch sev {
	case desk.SeverityLow:
		return &s.Low
	case desk.SeverityNormal:
		return &s.Normal
	case desk.SeverityHigh:
		return &s.High
	case desk.SeverityUrgent:
		return &s.Urgent
	case desk.SeverityCritical:
		return &s.Critical
	}
	return nil
}
