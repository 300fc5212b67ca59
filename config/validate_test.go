package config

import (
	"strings"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(c *Config)
		key    string // the only key flagged
		msg    string // part of its message
	}{
		{"desk address missing", func(c *Config) { c.Desk.Address = "" }, "desk.address", "bare e-mail address"},
		{"desk address with display name", func(c *Config) { c.Desk.Address = "Support <support@example.com>" }, "desk.address", "bare e-mail address"},
		{"desk address without domain", func(c *Config) { c.Desk.Address = "support" }, "desk.address", "bare e-mail address"},
		{"agent not an address", func(c *Config) { c.Desk.Agents = []string{"agent@example.com", "bob"} }, "desk.agents[1]", `"bob"`},
		{"agent is the desk itself", func(c *Config) { c.Desk.Agents = append(c.Desk.Agents, "Support@Example.com") }, "desk.agents[1]", "desk's own address"},
		{"notify not an address", func(c *Config) { c.Desk.Notify = []string{"on call@example.com"} }, "desk.notify[0]", "bare e-mail address"},
		{"name with a line break", func(c *Config) { c.Desk.Name = "Support\r\nBcc: x@evil.example" }, "desk.name", "control characters"},
		{"tag with a space", func(c *Config) { c.Desk.Tag = "Case No" }, "desk.tag", "one word"},
		{"tag with punctuation", func(c *Config) { c.Desk.Tag = "Case#" }, "desk.tag", "one word"},
		{"tag empty", func(c *Config) { c.Desk.Tag = "" }, "desk.tag", "one word"},
		{"database empty", func(c *Config) { c.Desk.Database = "" }, "desk.database", "SQLite"},
		{"secret file empty", func(c *Config) { c.Desk.SecretFile = "" }, "desk.secret_file", "HMAC"},
		{"unknown language", func(c *Config) { c.Desk.DefaultLanguage = "de" }, "desk.default_language", `"de" is not one of en, fr, ja`},
		{"unknown time zone", func(c *Config) { c.Desk.Timezone = "Mars/Olympus" }, "desk.timezone", "time zone"},
		{"empty time zone", func(c *Config) { c.Desk.Timezone = "" }, "desk.timezone", "time zone"},
		{"unknown default plan", func(c *Config) { c.Desk.DefaultPlan = "gold" }, "desk.default_plan", `unknown plan "gold"`},
		{"negative reopen days", func(c *Config) { c.Desk.ReopenDays = -1 }, "desk.reopen_days", "0 or more"},
		{"negative autoclose days", func(c *Config) { c.Desk.AutocloseDays = -1 }, "desk.autoclose_days", "0 or more"},
		{"comment address not an address", func(c *Config) { c.Desk.CommentAddress = "comments" }, "desk.comment_address", "bare e-mail address"},
		{"comment address is the desk address", func(c *Config) { c.Desk.CommentAddress = "SUPPORT@example.com" }, "desk.comment_address", "is desk.address"},
		{"agent is the comment address", func(c *Config) {
			c.Desk.Agents = append(c.Desk.Agents, "Support+Comment@example.com")
		}, "desk.agents[1]", "comment address"},
		{"agent is the default comment address", func(c *Config) {
			c.Desk.CommentAddress, c.Desk.Agents = "", append(c.Desk.Agents, "support+comment@example.com")
		}, "desk.agents[1]", "comment address"},

		{"agent table for an address not in desk.agents", func(c *Config) { c.Agents[0].Address = "lee@example.com" }, "agent[0].address", "not listed in desk.agents"},
		{"agent table address not an address", func(c *Config) { c.Agents[0].Address = "lee" }, "agent[0].address", "bare e-mail address"},
		{"agent table address missing", func(c *Config) { c.Agents[0].Address = "" }, "agent[0].address", "bare e-mail address"},
		{"agent table twice for one agent", func(c *Config) {
			c.Agents = append(c.Agents, AgentConfig{Address: "AGENT@example.com", Notify: "none"})
		}, "agent[1].address", "earlier [[agent]]"},
		{"agent table for a Unicode look-alike", func(c *Config) {
			c.Desk.Agents = append(c.Desk.Agents, "kim@example.com")
			c.Agents = append(c.Agents, AgentConfig{Address: "\u212aim@example.com", Notify: "all"}) // KELVIN SIGN
		}, "agent[1].address", "not listed in desk.agents"},
		{"agent name with a line break", func(c *Config) { c.Agents[0].Name = "Lee\r\nBcc: x@evil.example" }, "agent[0].name", "one line"},
		{"agent notify unknown", func(c *Config) { c.Agents[0].Notify = "mine" }, "agent[0].notify", `"mine" is not one of all, assigned, none`},
		{"agent notify in capitals", func(c *Config) { c.Agents[0].Notify = "All" }, "agent[0].notify", "is not one of"},

		{"no attachments allowed", func(c *Config) { c.Limits.AttachmentsPerMessage = 0 }, "limits.attachments_per_message", "positive"},
		{"negative message size", func(c *Config) { c.Limits.MessageBytes = -1 }, "limits.message_bytes", "positive"},
		{"attachment larger than message", func(c *Config) { c.Limits.AttachmentBytes = c.Limits.MessageBytes + 1 }, "limits.attachment_bytes", "larger than limits.message_bytes"},
		{"six contacts", func(c *Config) { c.Limits.Contacts = 6 }, "limits.contacts", "at most 5"},
		{"zero autoreplies", func(c *Config) { c.Limits.AutorepliesPerHour = 0 }, "limits.autoreplies_per_hour", "positive"},
		{"zero new cases", func(c *Config) { c.Limits.NewCasesPerSenderPerHour = 0 }, "limits.new_cases_per_sender_per_hour", "positive"},

		{"mailbox without name", func(c *Config) { c.Mailboxes[0].Name = "" }, "mailbox[0].name", "needs a name"},
		{"mailbox name used twice", func(c *Config) { c.Mailboxes = append(c.Mailboxes, c.Mailboxes[0]) }, "mailbox[1].name", "earlier mailbox"},
		{"mailbox without host", func(c *Config) { c.Mailboxes[0].Host = "" }, "mailbox[0].host", "missing"},
		{"mailbox port zero", func(c *Config) { c.Mailboxes[0].Port = 0 }, "mailbox[0].port", "1 to 65535"},
		{"mailbox port too big", func(c *Config) { c.Mailboxes[0].Port = 65536 }, "mailbox[0].port", "1 to 65535"},
		{"mailbox tls unknown", func(c *Config) { c.Mailboxes[0].TLS = "ssl" }, "mailbox[0].tls", `"ssl" is not one of implicit, starttls, none`},
		{"mailbox without username", func(c *Config) { c.Mailboxes[0].Username = "" }, "mailbox[0].username", "missing"},
		{"mailbox without credentials", func(c *Config) { c.Mailboxes[0].PasswordFile = "" }, "mailbox[0].password", "exactly one"},
		{"mailbox with two credentials", func(c *Config) { c.Mailboxes[0].Password = "pw" }, "mailbox[0].password", "(2 set)"},
		{"mailbox processed into itself", func(c *Config) { c.Mailboxes[0].Processed = "INBOX" }, "mailbox[0].folder", "processed or quarantine"},
		{"mailbox case type unknown", func(c *Config) { c.Mailboxes[0].CaseType = "billing" }, "mailbox[0].case_type", "technical, account-billing, service-limit"},
		{"mailbox agent not in desk.agents", func(c *Config) {
			c.Mailboxes[0].Agents = []string{"agent@example.com", "lee@example.com"}
		}, "mailbox[0].agents[1]", "not listed in desk.agents"},
		{"mailbox polls too often", func(c *Config) { c.Mailboxes[0].PollInterval = Duration{500 * time.Millisecond} }, "mailbox[0].poll_interval", "shorter than 1s"},

		{"smtp port missing", func(c *Config) { c.SMTP.Port = 0 }, "smtp.port", "1 to 65535"},
		{"smtp tls unknown", func(c *Config) { c.SMTP.TLS = "tls" }, "smtp.tls", "is not one of"},
		{"smtp two passwords", func(c *Config) { c.SMTP.Password = "pw" }, "smtp.password", "not both"},
		{"smtp username without password", func(c *Config) { c.SMTP.PasswordFile = "" }, "smtp.password", "needs a password"},
		{"smtp password without username", func(c *Config) { c.SMTP.Username = "" }, "smtp.username", "no username"},
		{"smtp retry_first zero", func(c *Config) { c.SMTP.RetryFirst = Duration{} }, "smtp.retry_first", "shorter than 1s"},
		{"smtp retry_first under a second", func(c *Config) { c.SMTP.RetryFirst = Duration{500 * time.Millisecond} }, "smtp.retry_first", "shorter than 1s"},
		{"smtp retry_max negative", func(c *Config) { c.SMTP.RetryMax = Duration{-time.Minute} }, "smtp.retry_max", "positive"},
		{"smtp give_up_after zero", func(c *Config) { c.SMTP.GiveUpAfter = Duration{} }, "smtp.give_up_after", "positive"},
		{"smtp retry_max shorter than retry_first", func(c *Config) {
			c.SMTP.RetryFirst, c.SMTP.RetryMax = Duration{10 * time.Minute}, Duration{5 * time.Minute}
		}, "smtp.retry_max", "shorter than smtp.retry_first"},
		{"smtp helo without a dot", func(c *Config) { c.SMTP.Helo = "mailhost" }, "smtp.helo", "fully qualified"},
		{"smtp helo an IP address", func(c *Config) { c.SMTP.Helo = "192.0.2.1" }, "smtp.helo", "fully qualified"},

		{"http listen without port", func(c *Config) { c.HTTP.Listen = "localhost" }, "http.listen", "host:port"},
		{"http public url not http", func(c *Config) { c.HTTP.PublicURL = "ftp://example.com" }, "http.public_url", "http(s) URL"},
		{"http public url relative", func(c *Config) { c.HTTP.PublicURL = "/survey" }, "http.public_url", "http(s) URL"},
		{"http health_outbox_age zero", func(c *Config) { c.HTTP.HealthOutboxAge = Duration{} }, "http.health_outbox_age", "positive"},

		{"customer without match", func(c *Config) { c.Customers[0].Match = "" }, "customer[0].match", "empty"},
		{"customer bare domain", func(c *Config) { c.Customers[0].Match = "acme.example" }, "customer[0].match", "bare e-mail address"},
		{"customer bad domain", func(c *Config) { c.Customers[0].Match = "@acme" }, "customer[0].match", "not a domain"},
		{"customer matched twice", func(c *Config) {
			c.Customers = append(c.Customers, CustomerConfig{Match: "@ACME.example", Plan: "basic"})
		}, "customer[1].match", "earlier [[customer]]"},
		{"customer plan unknown", func(c *Config) { c.Customers[0].Plan = "platinum" }, "customer[0].plan", `unknown plan "platinum"`},
		{"customer language unknown", func(c *Config) { c.Customers[0].Language = "english" }, "customer[0].language", "is not one of"},
		{"customer time zone unknown", func(c *Config) { c.Customers[0].Timezone = "EST5" }, "customer[0].timezone", "time zone"},

		{"plan severity unknown", func(c *Config) { c.Plans["gold"] = PlanConfig{MaxSeverity: "severe", Hours: "24x7"} }, "plans.gold.max_severity", "low, normal, high, urgent, critical"},
		{"plan hours unknown", func(c *Config) { c.Plans["gold"] = PlanConfig{MaxSeverity: "high", Hours: "9to5"} }, "plans.gold.hours", `"9to5"`},
		{"plan with six contacts", func(c *Config) {
			c.Plans["gold"] = PlanConfig{MaxSeverity: "high", Hours: "24x7", Contacts: 6}
		}, "plans.gold.contacts", "0 to 5"},
		{"plan negative critical target", func(c *Config) {
			c.Plans["gold"] = PlanConfig{MaxSeverity: "high", Hours: "24x7", CriticalTarget: Duration{-time.Minute}}
		}, "plans.gold.critical_target", "negative"},

		{"sla target zero", func(c *Config) { c.SLA.Urgent = Duration{} }, "sla.urgent", "positive"},

		{"business hours start unparsable", func(c *Config) { c.BusinessHours.Start = "8am" }, "business_hours.start", "HH:MM"},
		{"business hours start without leading zero", func(c *Config) { c.BusinessHours.Start = "8:00" }, "business_hours.start", "HH:MM"},
		{"business hours end out of range", func(c *Config) { c.BusinessHours.End = "25:00" }, "business_hours.end", "HH:MM"},
		{"business hours end before start", func(c *Config) { c.BusinessHours.End = "07:30" }, "business_hours.end", "not after start"},
		{"business days empty", func(c *Config) { c.BusinessHours.Days = nil }, "business_hours.days", "at least one day"},
		{"business day unknown", func(c *Config) { c.BusinessHours.Days = []string{"mon", "Tuesday"} }, "business_hours.days[1]", `"Tuesday"`},
		{"holiday not a date", func(c *Config) { c.BusinessHours.Holidays = []string{"2026-12-25", "25/12/2026"} }, "business_hours.holidays[1]", "YYYY-MM-DD"},
		{"holiday impossible date", func(c *Config) { c.BusinessHours.Holidays = []string{"2026-02-30"} }, "business_hours.holidays[0]", "YYYY-MM-DD"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := exampleForTest(t)
			tt.change(c)
			err := c.Validate()
			if err == nil {
				t.Fatalf("Validate succeeded, want an error at %s", tt.key)
			}
			errs := configErrors(t, err)
			if len(errs) != 1 || errs[0].Key != tt.key || !strings.Contains(errs[0].Error(), tt.msg) {
				t.Fatalf("Validate = %q, want one error at %s containing %q", err, tt.key, tt.msg)
			}
			if !strings.HasPrefix(errs[0].Error(), tt.key+": ") {
				t.Errorf("error %q does not start with its key", errs[0])
			}
		})
	}

	t.Run("valid variants", func(t *testing.T) {
		for name, change := range map[string]func(c *Config){
			"no smtp host skips smtp":         func(c *Config) { c.SMTP = SMTPConfig{} },
			"smtp without login":              func(c *Config) { c.SMTP.Username, c.SMTP.PasswordFile = "", "" },
			"no mailboxes":                    func(c *Config) { c.Mailboxes = nil },
			"oauth2 mailbox":                  func(c *Config) { c.Mailboxes[0].PasswordFile, c.Mailboxes[0].OAuth2TokenCommand = "", "token" },
			"address match":                   func(c *Config) { c.Customers[0].Match = "alice@acme.example" },
			"customer without plan":           func(c *Config) { c.Customers[0].Plan = "" },
			"unicode tag":                     func(c *Config) { c.Desk.Tag = "案件" },
			"no http listener":                func(c *Config) { c.HTTP.Listen = "" },
			"business hours to midnight":      func(c *Config) { c.BusinessHours.End = "24:00" },
			"reopen and autoclose turned off": func(c *Config) { c.Desk.ReopenDays, c.Desk.AutocloseDays = 0, 0 },
			"comment address an alias":        func(c *Config) { c.Desk.CommentAddress = "notes@example.com" },
			"comment address by default":      func(c *Config) { c.Desk.CommentAddress = "" },
			"no agent tables":                 func(c *Config) { c.Agents = nil },
			"agent table in other capitals":   func(c *Config) { c.Agents[0].Address = "Agent@EXAMPLE.com" },
			"agent table without name":        func(c *Config) { c.Agents[0].Name = "" },
			"agent notified when assigned":    func(c *Config) { c.Agents[0].Notify = "assigned" },
			"agent never notified":            func(c *Config) { c.Agents[0].Notify = "none" },
			"agent name in Japanese":          func(c *Config) { c.Agents[0].Name = "山田 花子" },
			"smtp helo a host name":           func(c *Config) { c.SMTP.Helo = "mail-1.example.com" },
			"smtp retries equal": func(c *Config) {
				c.SMTP.RetryFirst, c.SMTP.RetryMax = Duration{5 * time.Second}, Duration{5 * time.Second}
			},
			"no smtp host skips retries": func(c *Config) { c.SMTP = SMTPConfig{RetryFirst: Duration{-1}} },
			"mailbox agents in other capitals": func(c *Config) {
				c.Mailboxes[0].Agents = []string{"AGENT@example.com"}
			},
		} {
			c := exampleForTest(t)
			change(c)
			if err := c.Validate(); err != nil {
				t.Errorf("%s: Validate = %v", name, err)
			}
		}
	})

	t.Run("all problems are reported at once", func(t *testing.T) {
		c := exampleForTest(t)
		c.Desk.Address, c.Limits.Contacts, c.Mailboxes[0].Port = "", 9, 0
		if n := len(configErrors(t, c.Validate())); n != 3 {
			t.Fatalf("got %d errors, want 3", n)
		}
	})
}

func TestCheckHelo(t *testing.T) {
	for _, tt := range []struct {
		helo string
		ok   bool
	}{
		{"mail.example.com", true},
		{"MX-1.Example.COM", true},
		{"a.b", true},
		{"xn--bcher-kva.example", true},
		{"mailhost", false},              // Postfix: need fully-qualified hostname
		{"localhost", false},             // no dot
		{"mail.example.com.", false},     // trailing dot: an empty label
		{".example.com", false},          // empty label
		{"mail..example.com", false},     // empty label
		{"-mail.example.com", false},     // label starts with a hyphen
		{"mail-.example.com", false},     // label ends with a hyphen
		{"mail_1.example.com", false},    // underscore
		{"mail example.com", false},      // space
		{"192.0.2.1", false},             // an address, not a name
		{"[192.0.2.1]", false},           // an address literal
		{"bücher.example", false},        // U-label: write the A-label
		{"mail.example.com\r\nX", false}, // header injection
		{strings.Repeat("a", 64) + ".example", false},
		{strings.Repeat("abcdefghi.", 25) + "example", false}, // 257 characters
	} {
		if err := checkHelo(tt.helo); (err == nil) != tt.ok {
			t.Errorf("checkHelo(%q) = %v, want ok %v", tt.helo, err, tt.ok)
		}
	}
}
