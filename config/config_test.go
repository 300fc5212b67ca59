package config

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pelletier/go-toml/v2"
)

// configErrors returns the *ConfigError values in err, a single one or a join.
func configErrors(t *testing.T, err error) []*ConfigError {
	t.Helper()
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	var out []*ConfigError
	for _, e := range errs {
		ce, ok := errors.AsType[*ConfigError](e)
		if !ok {
			t.Fatalf("error %v (%T) is not a *ConfigError", e, e)
		}
		out = append(out, ce)
	}
	return out
}

// exampleForTest parses the embedded example, failing the test if it does not.
func exampleForTest(t *testing.T) *Config {
	t.Helper()
	c, err := Parse(example)
	if err != nil {
		t.Fatalf("Parse(example): %v", err)
	}
	return c
}

func TestDefaultConfig(t *testing.T) {
	c := DefaultConfig()
	tests := []struct {
		name      string
		got, want any
	}{
		{"desk.tag", c.Desk.Tag, "Case"},
		{"desk.database", c.Desk.Database, "postdesk.db"},
		{"desk.default_language", c.Desk.DefaultLanguage, "en"},
		{"desk.timezone", c.Desk.Timezone, "UTC"},
		{"desk.default_plan", c.Desk.DefaultPlan, "business"},
		{"desk.reopen_days", c.Desk.ReopenDays, 7},
		{"desk.autoclose_days", c.Desk.AutocloseDays, 10},
		{"desk.secret_file", c.Desk.SecretFile, "postdesk.key"},
		{"limits", c.Limits, LimitsConfig{3, 5242880, 26214400, 5, 10, 20, 1048576}},
		{"smtp", c.SMTP, SMTPConfig{TLS: "starttls", RetryFirst: Duration{time.Minute}, RetryMax: Duration{time.Hour},
			GiveUpAfter: Duration{120 * time.Hour}}},
		{"http", c.HTTP, HTTPConfig{Listen: "127.0.0.1:8025", HealthOutboxAge: Duration{15 * time.Minute}}},
		{"sla", c.SLA.Targets(), map[string]time.Duration{
			"low": 24 * time.Hour, "normal": 12 * time.Hour, "high": 4 * time.Hour,
			"urgent": time.Hour, "critical": 15 * time.Minute}},
		{"business_hours", c.BusinessHours, BusinessHoursConfig{
			Start: "08:00", End: "18:00", Days: []string{"mon", "tue", "wed", "thu", "fri"}}},
		{"plans", c.Plans, map[string]PlanConfig{
			"basic":              {MaxSeverity: "normal", Technical: false, Contacts: 0, Hours: "business"},
			"developer":          {MaxSeverity: "normal", Technical: true, Contacts: 0, Hours: "business"},
			"business":           {MaxSeverity: "urgent", Technical: true, Contacts: 5, Hours: "24x7"},
			"enterprise-on-ramp": {MaxSeverity: "critical", Technical: true, Contacts: 5, Hours: "24x7", CriticalTarget: Duration{30 * time.Minute}},
			"enterprise":         {MaxSeverity: "critical", Technical: true, Contacts: 5, Hours: "24x7"},
		}},
	}
	for _, tt := range tests {
		if !reflect.DeepEqual(tt.got, tt.want) {
			t.Errorf("default %s = %v, want %v", tt.name, tt.got, tt.want)
		}
	}

	t.Run("defaults plus an address validate", func(t *testing.T) {
		c := DefaultConfig()
		c.Desk.Address = "support@example.com"
		if err := c.Validate(); err != nil {
			t.Fatalf("Validate: %v", err)
		}
	})
	t.Run("each call returns a fresh copy", func(t *testing.T) {
		a, b := DefaultConfig(), DefaultConfig()
		a.Plans["basic"] = PlanConfig{}
		a.BusinessHours.Days[0] = "sun"
		if b.Plans["basic"].MaxSeverity != "normal" || b.BusinessHours.Days[0] != "mon" {
			t.Fatal("DefaultConfig results share state")
		}
	})
	t.Run("empty document gives the defaults", func(t *testing.T) {
		c, err := Parse(nil)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(c, DefaultConfig()) {
			t.Fatalf("Parse(nil) = %+v, want DefaultConfig()", c)
		}
	})
}

func TestExampleConfig(t *testing.T) {
	t.Run("root copy is byte-identical", func(t *testing.T) {
		root, err := os.ReadFile(filepath.Join("..", "config.example.toml"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(root, example) {
			t.Fatal("config.example.toml at the repository root differs from config/config.example.toml; copy it over")
		}
	})
	t.Run("parses and validates", func(t *testing.T) {
		if err := exampleForTest(t).Validate(); err != nil {
			t.Fatalf("Validate(example): %v", err)
		}
	})
	t.Run("loads from a file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "postdesk.toml")
		if err := os.WriteFile(path, example, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := Load(path); err != nil {
			t.Fatalf("Load: %v", err)
		}
	})
	t.Run("shows the defaults", func(t *testing.T) {
		c, def := exampleForTest(t), DefaultConfig()
		def.BusinessHours.Holidays = c.BusinessHours.Holidays // example-only values
		for _, f := range []struct {
			name      string
			got, want any
		}{
			{"limits", c.Limits, def.Limits},
			{"plans", c.Plans, def.Plans},
			{"sla", c.SLA, def.SLA},
			{"business_hours", c.BusinessHours, def.BusinessHours},
			{"http", c.HTTP, def.HTTP},
			{"smtp.tls", c.SMTP.TLS, def.SMTP.TLS},
			{"smtp retries", [3]Duration{c.SMTP.RetryFirst, c.SMTP.RetryMax, c.SMTP.GiveUpAfter},
				[3]Duration{def.SMTP.RetryFirst, def.SMTP.RetryMax, def.SMTP.GiveUpAfter}},
			{"smtp.helo", c.SMTP.Helo, def.SMTP.Helo},
			{"desk.tag", c.Desk.Tag, def.Desk.Tag},
			{"desk.database", c.Desk.Database, def.Desk.Database},
			{"desk.default_language", c.Desk.DefaultLanguage, def.Desk.DefaultLanguage},
			{"desk.timezone", c.Desk.Timezone, def.Desk.Timezone},
			{"desk.default_plan", c.Desk.DefaultPlan, def.Desk.DefaultPlan},
			{"desk.reopen_days", c.Desk.ReopenDays, def.Desk.ReopenDays},
			{"desk.autoclose_days", c.Desk.AutocloseDays, def.Desk.AutocloseDays},
			{"desk.secret_file", c.Desk.SecretFile, def.Desk.SecretFile},
			{"desk.comment_address", c.Desk.CommentAddress, "support+comment@example.com"}, // address + "+comment"
			{"agent.notify", c.Agents[0].Notify, "all"},
			{"mailbox.agents", len(c.Mailboxes[0].Agents), 0},
		} {
			if !reflect.DeepEqual(f.got, f.want) {
				t.Errorf("example %s = %v, default is %v", f.name, f.got, f.want)
			}
		}
		var m MailboxConfig
		m.Name, m.Host, m.Port, m.Username, m.PasswordFile = "x", "x", 1, "x", "x"
		withDefaults := Config{Mailboxes: []MailboxConfig{m}}
		withDefaults.fillMailboxDefaults()
		d, e := withDefaults.Mailboxes[0], c.Mailboxes[0]
		if e.TLS != d.TLS || e.Folder != d.Folder || e.Processed != d.Processed ||
			e.Quarantine != d.Quarantine || e.CaseType != d.CaseType || e.PollInterval != d.PollInterval {
			t.Errorf("example mailbox %+v does not show the mailbox defaults %+v", e, d)
		}
	})
	t.Run("documents every key", func(t *testing.T) {
		commented := exampleKeys(example)
		for _, key := range configKeys(reflect.TypeFor[Config](), "") {
			name := key[strings.LastIndexByte(key, '.')+1:]
			switch explained, written := commented[key]; {
			case !written:
				t.Errorf("key %s is missing from config.example.toml (write it, or a commented-out \"# %s = ...\" line)", key, name)
			case !explained:
				t.Errorf("key %s in config.example.toml has no comment line above its first use", key)
			}
		}
	})
}

// configKeys lists the dotted keys of every field of a config struct type,
// from toml tags: "desk.address", "mailbox.port", "plans.*.hours".
func configKeys(t reflect.Type, prefix string) []string {
	var keys []string
	for f := range t.Fields() {
		tag := strings.Split(f.Tag.Get("toml"), ",")[0]
		if !f.IsExported() || tag == "-" {
			continue
		}
		if tag == "" {
			panic("field " + f.Name + " has no toml tag")
		}
		key := prefix + tag
		ft := f.Type
		switch {
		case ft.Kind() == reflect.Map:
			key += ".*"
			ft = ft.Elem()
		case ft.Kind() == reflect.Slice:
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Struct && ft != reflect.TypeFor[Duration]() {
			keys = append(keys, configKeys(ft, key+".")...)
		} else {
			keys = append(keys, key)
		}
	}
	return keys
}

// exampleKeys returns the keys written in a TOML example, set or commented
// out ("# password = ..."), as dotted paths with plan names replaced by "*",
// each mapped to whether a comment line comes right before its first use.
func exampleKeys(doc []byte) map[string]bool {
	header := regexp.MustCompile(`^\[\[?\s*([A-Za-z0-9_.-]+)\s*\]\]?`)
	keyLine := regexp.MustCompile(`^(?:#\s*)?([a-z0-9_]+)\s*=`)
	keys := map[string]bool{}
	table, afterComment := "", false
	sc := bufio.NewScanner(bytes.NewReader(doc))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if m := header.FindStringSubmatch(line); m != nil {
			table = m[1]
			if rest, ok := strings.CutPrefix(table, "plans."); ok && rest != "" {
				table = "plans.*"
			}
		} else if m := keyLine.FindStringSubmatch(line); m != nil {
			if _, seen := keys[table+"."+m[1]]; !seen {
				keys[table+"."+m[1]] = afterComment
			}
		}
		afterComment = strings.HasPrefix(line, "#")
	}
	return keys
}

func TestParseMergesDefaults(t *testing.T) {
	doc := `
[plans.business]
max_severity = "high"

[plans.gold]
max_severity = "critical"
technical = true
contacts = 2
hours = "24x7"

[[mailbox]]
name = "billing"
host = "imap.example.com"
port = 143
username = "billing@example.com"
password = "pw"
case_type = "account-billing"
`
	c, err := Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.Plans["business"], (PlanConfig{MaxSeverity: "high", Technical: true, Contacts: 5, Hours: "24x7"}); got != want {
		t.Errorf("plans.business = %+v, want %+v (keys not set keep their defaults)", got, want)
	}
	if _, ok := c.Plans["enterprise"]; !ok || len(c.Plans) != 6 {
		t.Errorf("plans = %v, want the five built-in plans plus gold", c.Plans)
	}
	want := MailboxConfig{Name: "billing", Host: "imap.example.com", Port: 143, TLS: "implicit",
		Username: "billing@example.com", Password: "pw", Folder: "INBOX", Processed: "Processed",
		Quarantine: "Quarantine", CaseType: "account-billing", PollInterval: Duration{time.Minute}}
	if len(c.Mailboxes) != 1 || !reflect.DeepEqual(c.Mailboxes[0], want) {
		t.Errorf("mailboxes = %+v, want [%+v]", c.Mailboxes, want)
	}
}

func TestConfigAgentDefaults(t *testing.T) {
	tests := []struct {
		name    string
		doc     string
		comment string
		agents  []AgentConfig
	}{
		{
			name:    "comment address from the desk address",
			doc:     "[desk]\naddress = \"help@example.com\"\n",
			comment: "help+comment@example.com",
		},
		{
			name:    "comment address as written",
			doc:     "[desk]\naddress = \"help@example.com\"\ncomment_address = \"notes@example.com\"\n",
			comment: "notes@example.com",
		},
		{
			name:    "no comment address without a valid desk address",
			doc:     "[desk]\naddress = \"Help <help@example.com>\"\n",
			comment: "",
		},
		{
			name:    "agent notify defaults to all",
			doc:     "[desk]\naddress = \"help@example.com\"\nagents = [\"lee@example.com\"]\n[[agent]]\naddress = \"lee@example.com\"\n",
			comment: "help+comment@example.com",
			agents:  []AgentConfig{{Address: "lee@example.com", Notify: "all"}},
		},
		{
			name:    "agent settings as written",
			doc:     "[desk]\naddress = \"help@example.com\"\n[[agent]]\naddress = \"lee@example.com\"\nname = \"Lee Chen\"\nnotify = \"none\"\n",
			comment: "help+comment@example.com",
			agents:  []AgentConfig{{Address: "lee@example.com", Name: "Lee Chen", Notify: "none"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.doc))
			if err != nil {
				t.Fatal(err)
			}
			if c.Desk.CommentAddress != tt.comment {
				t.Errorf("desk.comment_address = %q, want %q", c.Desk.CommentAddress, tt.comment)
			}
			if !reflect.DeepEqual(c.Agents, tt.agents) {
				t.Errorf("agents = %+v, want %+v", c.Agents, tt.agents)
			}
		})
	}
	t.Run("mailbox agents default to none listed", func(t *testing.T) {
		c, err := Parse([]byte("[[mailbox]]\nname = \"a\"\n"))
		if err != nil {
			t.Fatal(err)
		}
		if c.Mailboxes[0].Agents != nil {
			t.Errorf("mailbox agents = %q, want none (every agent)", c.Mailboxes[0].Agents)
		}
	})
	t.Run("no desk address leaves the comment address to Validate", func(t *testing.T) {
		c, err := Parse([]byte("[desk]\nname = \"Help\"\n"))
		if err != nil {
			t.Fatal(err)
		}
		errs := configErrors(t, c.Validate())
		if len(errs) != 1 || errs[0].Key != "desk.address" {
			t.Errorf("Validate = %v, want only desk.address", errs)
		}
	})
}

func TestDuration(t *testing.T) {
	tests := []struct {
		text    string
		want    time.Duration
		wantErr bool
		out     string // MarshalText
	}{
		{text: "60s", want: time.Minute, out: "1m"},
		{text: "4h", want: 4 * time.Hour, out: "4h"},
		{text: "15m", want: 15 * time.Minute, out: "15m"},
		{text: "1h30m", want: 90 * time.Minute, out: "1h30m"},
		{text: "90s", want: 90 * time.Second, out: "1m30s"},
		{text: "500ms", want: 500 * time.Millisecond, out: "500ms"},
		{text: "0s", want: 0, out: "0s"},
		{text: "24h0m0s", want: 24 * time.Hour, out: "24h"},
		{text: "60", wantErr: true},
		{text: "4 hours", wantErr: true},
		{text: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			var d Duration
			err := d.UnmarshalText([]byte(tt.text))
			if tt.wantErr {
				if err == nil {
					t.Fatalf("UnmarshalText(%q) = %v, want an error", tt.text, d)
				}
				return
			}
			if err != nil || d.Duration != tt.want {
				t.Fatalf("UnmarshalText(%q) = %v, %v; want %v", tt.text, d.Duration, err, tt.want)
			}
			out, err := d.MarshalText()
			if err != nil || string(out) != tt.out {
				t.Fatalf("MarshalText = %q, %v; want %q", out, err, tt.out)
			}
			var back Duration
			if err := back.UnmarshalText(out); err != nil || back != d {
				t.Fatalf("round trip %q gave %v, %v", out, back, err)
			}
		})
	}
}

func TestRedacted(t *testing.T) {
	c := exampleForTest(t)
	c.Mailboxes[0].PasswordFile, c.Mailboxes[0].Password = "", "imap-s3cret"
	c.Mailboxes = append(c.Mailboxes, MailboxConfig{Name: "other", OAuth2TokenCommand: "token"})
	c.SMTP.PasswordFile, c.SMTP.Password = "", "smtp-s3cret"

	r := c.Redacted()
	if r.Mailboxes[0].Password != "******" || r.SMTP.Password != "******" {
		t.Errorf("passwords not redacted: mailbox %q, smtp %q", r.Mailboxes[0].Password, r.SMTP.Password)
	}
	if r.Mailboxes[1].Password != "" {
		t.Errorf("an unset password became %q, want it left empty", r.Mailboxes[1].Password)
	}
	if c.Mailboxes[0].Password != "imap-s3cret" || c.SMTP.Password != "smtp-s3cret" {
		t.Error("Redacted changed the original")
	}
	out, err := toml.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(out, []byte("s3cret")) {
		t.Errorf("redacted TOML shows a password:\n%s", out)
	}

	c.Mailboxes[0].Agents = []string{"agent@example.com"}
	r = c.Redacted()
	r.Plans["basic"] = PlanConfig{}
	r.Desk.Agents[0] = "x@example.com"
	r.Customers[0].Plan = "basic"
	r.Agents[0].Name = "X"
	r.Mailboxes[0].Agents[0] = "x@example.com"
	if c.Plans["basic"].MaxSeverity == "" || c.Desk.Agents[0] == "x@example.com" || c.Customers[0].Plan == "basic" ||
		c.Agents[0].Name == "X" || c.Mailboxes[0].Agents[0] == "x@example.com" {
		t.Error("Redacted copy shares maps or slices with the original")
	}

	t.Run("redacted config re-parses", func(t *testing.T) {
		back, err := Parse(out)
		if err != nil {
			t.Fatalf("Parse(Marshal(Redacted())): %v\n%s", err, out)
		}
		if back.SLA != c.SLA || !reflect.DeepEqual(back.Plans, c.Plans) {
			t.Errorf("round trip changed sla or plans: %+v %+v", back.SLA, back.Plans)
		}
	})
}
