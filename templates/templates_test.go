package templates

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// kinds are the mails to customers and the support team's alerts; the
// mails to agents (notices and transcripts) are tested in agents_test.go.
var kinds = []string{"confirmation", "contact", "reply", "status", "closed", "refusal", "alert"}

// testView is a filled View whose free text is neither English, French nor
// Japanese, so that any English found in a translation comes from the template.
func testView() View {
	return View{
		Case: 1042, Tag: "[Case #1042]", Subject: "ELB 503",
		Status: "pending", Severity: "high", Type: "technical", Service: "ELB",
		Requester: "alice@acme.example", FirstResponseDue: time.Date(2026, 11, 21, 13, 0, 0, 0, time.UTC),
		ContactsAdded:   []string{"bob@acme.example", "carol@acme.example"},
		ContactsRefused: []Refusal{{Address: "eve@other.example", Reason: "REASON-CONTACT"}},
		Rejected:        []File{{Filename: "core.dump", Size: 6 << 20, Reason: "REASON-FILE"}},
		Author:          "agent@support.example",
		Body:            "AGENT-BODY line 1\nAGENT-BODY line 2",
		Attachments:     []File{{Filename: "report.txt", ContentType: "text/plain", Size: 2600}},
		Resolution:      "RESOLUTION-TEXT",
		Reason:          "REASON-TEXT",
		DeskName:        "DESK-NAME",
		DeskAddress:     "support@example.com",
		SurveyLinks:     []string{"https://s.example/1", "https://s.example/2", "https://s.example/3", "https://s.example/4", "https://s.example/5"},
	}
}

func mustNew(t *testing.T, dir string) *Set {
	t.Helper()
	s, err := New(dir)
	if err != nil {
		t.Fatalf("New(%q): %v", dir, err)
	}
	return s
}

func TestEveryKindRendersInEveryLanguage(t *testing.T) {
	s := mustNew(t, "")
	if got := Languages(); !slices.Equal(got, []string{"en", "fr", "ja"}) {
		t.Fatalf("Languages() = %v", got)
	}
	if got := s.Kinds(); !slices.Equal(got, []string{"alert", "closed", "confirmation", "contact", "notice", "refusal", "reply", "status", "transcript"}) {
		t.Fatalf("Kinds() = %v", got)
	}
	for _, lang := range Languages() {
		for _, kind := range kinds {
			t.Run(lang+"/"+kind, func(t *testing.T) {
				if got := s.Resolve(lang, kind); got != lang {
					t.Errorf("Resolve(%q, %q) = %q: the language has no own template", lang, kind, got)
				}
				subject, body, err := s.Render(lang, kind, testView())
				if err != nil {
					t.Fatal(err)
				}
				if subject == "" || strings.ContainsAny(subject, "\r\n") {
					t.Errorf("subject %q is not one non-empty line", subject)
				}
				if body == "" || !strings.HasSuffix(body, "\n") || strings.Contains(body, "\r") {
					t.Errorf("body is empty, or not LF-terminated lines:\n%q", body)
				}
				if strings.Contains(body, "<no value>") || strings.Contains(subject, "<no value>") {
					t.Errorf("a field is missing:\n%s\n%s", subject, body)
				}
				if strings.Contains(body, "DESK-NAME") == (kind == "alert") {
					t.Errorf("the desk signs every mail to customers, not alerts:\n%s", body)
				}
				if kind != "reply" && strings.Contains(body, "AGENT-BODY") {
					t.Errorf("only a reply carries a Body:\n%s", body)
				}
			})
		}
	}
}

func TestEachKindSaysWhatItMustSay(t *testing.T) {
	s := mustNew(t, "")
	tests := []struct {
		kind, subject string
		body          []string
	}{
		{"confirmation", "[Case #1042] ELB 503", []string{"Case number: 1042", "Severity: high",
			"First response target: 2026-11-21 13:00 UTC", "Case type: technical support", "Service: ELB",
			"keep [Case #1042] in the subject", "  - bob@acme.example\n  - carol@acme.example",
			"eve@other.example: REASON-CONTACT", "core.dump (6 MiB): REASON-FILE"}},
		{"contact", "[Case #1042] You were added to a support case", []string{"Case number: 1042",
			"Added by: <alice@acme.example>", "keep [Case #1042] in the subject", "DESK-NAME"}},
		{"reply", "Re: [Case #1042] ELB 503", []string{"AGENT-BODY line 1\nAGENT-BODY line 2\n\n-- \n",
			"Case number: 1042", "#close"}},
		{"status", "Re: [Case #1042] ELB 503", []string{"pending (waiting for your reply)", "Reason: REASON-TEXT"}},
		{"closed", "Re: [Case #1042] ELB 503", []string{"RESOLUTION-TEXT", "1 (poor) to 5 (excellent)",
			"  1: https://s.example/1\n", "  5: https://s.example/5\n"}},
		{"refusal", "Re: ELB 503", []string{"REASON-TEXT", "What you can do instead"}},
		{"alert", "[postdesk] case 1042: REASON-TEXT", []string{"REASON-TEXT", "Case number: 1042",
			"postdesk case show 1042"}},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			subject, body, err := s.Render("en", tt.kind, testView())
			if err != nil {
				t.Fatal(err)
			}
			if subject != tt.subject {
				t.Errorf("subject = %q, want %q", subject, tt.subject)
			}
			for _, want := range tt.body {
				if !strings.Contains(body, want) {
					t.Errorf("body lacks %q:\n%s", want, body)
				}
			}
		})
	}
}

func TestOptionalPartsAreLeftOutWhenEmpty(t *testing.T) {
	s := mustNew(t, "")
	v := testView()
	v.FirstResponseDue, v.Type, v.Service = time.Time{}, "", ""
	v.ContactsAdded, v.ContactsRefused, v.Rejected, v.SurveyLinks = nil, nil, nil, nil
	v.Resolution = ""
	tests := []struct {
		lang, kind string
		absent     []string
	}{
		{"en", "confirmation", []string{"First response target", "Case type", "Service:", "were added", "were not added", "left out", "not kept"}},
		{"en", "closed", []string{"Resolution", "one click"}},
		{"fr", "confirmation", []string{"Première réponse", "Type de dossier", "Service :", "ont été ajoutées", "champ Cc", "conservés"}},
		{"fr", "closed", []string{"Résolution", "en un clic"}},
		{"ja", "confirmation", []string{"初回回答", "ケースの種類", "サービス:", "追加いたしました", "Cc欄", "保存できません"}},
		{"ja", "closed", []string{"解決内容", "ワンクリック"}},
	}
	for _, tt := range tests {
		t.Run(tt.lang+"/"+tt.kind, func(t *testing.T) {
			_, body, err := s.Render(tt.lang, tt.kind, v)
			if err != nil {
				t.Fatal(err)
			}
			for _, no := range tt.absent {
				if strings.Contains(body, no) {
					t.Errorf("body has %q although its data is empty:\n%s", no, body)
				}
			}
			if strings.Contains(body, "\n\n\n") {
				t.Errorf("empty parts left blank lines behind:\n%s", body)
			}
		})
	}
}

func TestTranslationsHaveNoEnglishLeftovers(t *testing.T) {
	s := mustNew(t, "")
	english := []string{"Hello", "Case number", "Severity", "First response target", "reply to this mail",
		"Kind regards", "sent automatically", "New status", "Resolution", "How did we do", "(poor)",
		"What you can do", "were not added", "Case type", "technical support", "waiting for your reply",
		"To see the case", "case 1042"}
	native := map[string][]string{
		"fr": {"Numéro de dossier", "Cordialement", "Sévérité : élevée", "Mio"},
		"ja": {"ケース番号", "重要度: 高", "ご返信", "いたします"},
	}
	for lang, want := range native {
		for _, kind := range kinds {
			t.Run(lang+"/"+kind, func(t *testing.T) {
				subject, body, err := s.Render(lang, kind, testView())
				if err != nil {
					t.Fatal(err)
				}
				for _, en := range english {
					if strings.Contains(subject+"\n"+body, en) {
						t.Errorf("%s %s has English %q:\n%s\n%s", lang, kind, en, subject, body)
					}
				}
				if kind == "confirmation" {
					for _, w := range want {
						if !strings.Contains(body, w) {
							t.Errorf("%s confirmation lacks %q:\n%s", lang, w, body)
						}
					}
				}
			})
		}
	}
}

func TestRenderFallsBack(t *testing.T) {
	s := mustNew(t, "")
	tests := []struct{ lang, want string }{
		{"ja", "ja"}, {"JA", "ja"}, {"ja-JP", "ja"}, {"fr-CA", "fr"}, {"de", "en"}, {"", "en"}, {"en-GB", "en"},
	}
	for _, tt := range tests {
		t.Run("lang "+tt.lang+" renders "+tt.want, func(t *testing.T) {
			if got := s.Resolve(tt.lang, "reply"); got != tt.want {
				t.Fatalf("Resolve(%q) = %q, want %q", tt.lang, got, tt.want)
			}
			_, got, err := s.Render(tt.lang, "reply", testView())
			if err != nil {
				t.Fatal(err)
			}
			_, want, _ := s.Render(tt.want, "reply", testView())
			if got != want {
				t.Errorf("Render(%q) differs from Render(%q)", tt.lang, tt.want)
			}
		})
	}
	t.Run("unknown kind is an error", func(t *testing.T) {
		if _, _, err := s.Render("en", "survey-thanks", testView()); !errors.Is(err, ErrUnknownKind) {
			t.Fatalf("err = %v, want ErrUnknownKind", err)
		}
	})
}

func TestRenderCleansSubjectAndBody(t *testing.T) {
	s := mustNew(t, "")
	v := testView()
	v.Subject = "two\r\nBcc: evil@example.com\tand\x00 more  spaces"
	v.Body = "line one   \r\nline two\t\r\n\r\n-- \r\nsig"
	subject, body, err := s.Render("en", "reply", v)
	if err != nil {
		t.Fatal(err)
	}
	if want := "Re: [Case #1042] two Bcc: evil@example.com and more spaces"; subject != want {
		t.Errorf("subject = %q, want %q", subject, want)
	}
	if want := "line one\nline two\n\n-- \nsig\n\n-- \n"; !strings.HasPrefix(body, want) {
		t.Errorf("body = %q, want prefix %q", body, want)
	}
}

func writeFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestOverrideDirectory(t *testing.T) {
	const good = `{{define "subject"}}Custom {{.Tag}}{{end}}{{define "body"}}Custom body for {{.Case}}{{end}}`
	t.Run("an override replaces one template and leaves the others", func(t *testing.T) {
		dir := t.TempDir()
		writeFile(t, dir, "fr/reply.txt", good)
		writeFile(t, dir, "README.md", "not a template")
		writeFile(t, dir, "fr/reply.txt.orig", "{{broken")
		s := mustNew(t, dir)
		subject, body, err := s.Render("fr", "reply", testView())
		if err != nil {
			t.Fatal(err)
		}
		if subject != "Custom [Case #1042]" || body != "Custom body for 1042\n" {
			t.Errorf("override not used: %q %q", subject, body)
		}
		_, body, _ = s.Render("fr", "status", testView())
		if !strings.Contains(body, "Nouveau statut") {
			t.Errorf("fr/status changed too:\n%s", body)
		}
		_, body, _ = s.Render("en", "reply", testView())
		if strings.Contains(body, "Custom") {
			t.Errorf("en/reply changed too:\n%s", body)
		}
	})
	t.Run("an override may add a language", func(t *testing.T) {
		dir := t.TempDir()
		writeFile(t, dir, "de/reply.txt", good)
		s := mustNew(t, dir)
		if s.Resolve("de", "reply") != "de" || s.Resolve("de", "status") != "en" {
			t.Errorf("de resolves to %q and %q", s.Resolve("de", "reply"), s.Resolve("de", "status"))
		}
	})
	broken := []struct{ name, file, text, want string }{
		{"a parse error", "ja/closed.txt", `{{define "subject"}}{{.Tag}{{end}}`, "closed.txt:1"},
		{"an unknown field", "fr/status.txt", `{{define "subject"}}x{{end}}{{define "body"}}{{.Nope}}{{end}}`, "Nope"},
		{"an unknown function", "en/alert.txt", `{{define "subject"}}x{{end}}{{define "body"}}{{shout .Reason}}{{end}}`, "shout"},
		{"a missing body", "en/reply.txt", `{{define "subject"}}x{{end}}`, `"body"`},
		{"an empty subject", "en/reply.txt", `{{define "subject"}} {{end}}{{define "body"}}x{{end}}`, "subject is empty"},
		{"an unknown kind", "en/confirmaton.txt", good, `unknown kind "confirmaton"`},
		{"a bad language directory", "e n/reply.txt", good, "not a language tag"},
	}
	for _, tt := range broken {
		t.Run(tt.name+" fails New with the file name", func(t *testing.T) {
			dir := t.TempDir()
			path := writeFile(t, dir, tt.file, tt.text)
			_, err := New(dir)
			if err == nil {
				t.Fatal("New succeeded")
			}
			if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want the file %s and %q", err, path, tt.want)
			}
		})
	}
	t.Run("a missing directory fails New", func(t *testing.T) {
		if _, err := New(filepath.Join(t.TempDir(), "nope")); err == nil {
			t.Fatal("New succeeded")
		}
	})
}

func TestFuncs(t *testing.T) {
	sizes := []struct {
		lang string
		n    int64
		want string
	}{
		{"en", 12, "12 B"}, {"en", 1024, "1 KiB"}, {"en", 1536, "1.5 KiB"}, {"en", 812 << 10, "812 KiB"},
		{"en", 5 << 20, "5 MiB"}, {"en", 6291456, "6 MiB"}, {"en", 5<<20 + 1<<19, "5.5 MiB"},
		{"en", 3 << 30, "3 GiB"}, {"fr", 5<<20 + 1<<19, "5,5 Mio"}, {"fr", 12, "12 o"}, {"ja", 5 << 20, "5 MiB"},
	}
	for _, tt := range sizes {
		t.Run("size "+tt.want, func(t *testing.T) {
			if got := size(tt.lang, tt.n); got != tt.want {
				t.Errorf("size(%s, %d) = %q, want %q", tt.lang, tt.n, got, tt.want)
			}
		})
	}
	t.Run("when is UTC to the minute and empty for the zero time", func(t *testing.T) {
		tokyo := time.FixedZone("JST", 9*3600)
		if got := when(time.Date(2026, 11, 21, 22, 0, 59, 0, tokyo)); got != "2026-11-21 13:00 UTC" {
			t.Errorf("when = %q", got)
		}
		if got := when(time.Time{}); got != "" {
			t.Errorf("when(zero) = %q", got)
		}
	})
	t.Run("labels fall back to the value", func(t *testing.T) {
		f := funcs("ja")["severity"].(func(string) string)
		if f("urgent") != "緊急" || f("weird") != "weird" {
			t.Errorf("severity labels: %q %q", f("urgent"), f("weird"))
		}
	})
}
