package templates

import (
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// The codes a notice and a transcript may carry (store.Code* and
// store.Result*; templates does not import store).
var (
	noticeCodes     = []string{"new-case", "customer-reply", "reopened", "held", "undeliverable", "escalated", "overdue", "poor-rating", "note"}
	transcriptCodes = []string{"answered", "noted", "no-text", "leak", "refused-text", "commands-only", "forged"}
	resultCodes     = []string{"done", "unknown", "not-allowed", "bad-value", "too-many", "not-run", "no-held", "limit"}
)

// agentView is a filled View of a mail to an agent whose free text is in
// no language, so that any word found comes from the template.
func agentView(code string) View {
	v := testView()
	v.Code = code
	v.FromName, v.Author = "NAME-FROM", "from@acme.example"
	v.RequesterName = "NAME-REQ"
	v.Contacts = []string{"bob@acme.example", "carol@acme.example"}
	v.Assignee = "lee@support.example"
	v.Plan = "business"
	v.At = v.FirstResponseDue.Add(-(3*time.Hour + 48*time.Minute))
	v.RelatedTag, v.Rating = "[Case #1017]", 2
	v.Body = "REPORTED-BODY line 1\n\nREPORTED-BODY line 3"
	return v
}

// lines splits a rendered body into its lines, without the final newline.
func lines(body string) []string { return strings.Split(strings.TrimSuffix(body, "\n"), "\n") }

// afterSignature returns the lines after the last "-- " line, and whether
// there was one.
func afterSignature(body string) ([]string, bool) {
	ls := lines(body)
	for j := len(ls) - 1; j >= 0; j-- {
		if ls[j] == "-- " {
			return ls[j+1:], true
		}
	}
	return nil, false
}

func TestNoticeKeepsTheLayoutTheDeskChecks(t *testing.T) {
	s := mustNew(t, "")
	requesterLabel := map[string]string{"en": "Requester: ", "fr": "Demandeur : ", "ja": "依頼者: "}
	contactsLabel := map[string]string{"en": "Contacts: ", "fr": "Contacts : ", "ja": "連絡先: "}
	filesLabel := map[string]string{"en": "Attachments: ", "fr": "Pièces jointes : ", "ja": "添付ファイル: "}
	for _, lang := range Languages() {
		for _, code := range append(slices.Clone(noticeCodes), "", "some-new-code") {
			for _, full := range []bool{true, false} {
				for _, internal := range []bool{false, true} {
					v := agentView(code)
					if internal {
						v.ReplyTo = "support+comment@example.com"
					}
					if !full {
						v.Contacts, v.Body, v.Attachments, v.FirstResponseDue = nil, "", nil, time.Time{}
						v.FromName, v.Author, v.RequesterName, v.Assignee = "", "", "", ""
					}
					name := lang + "/" + code
					if full {
						name += "/full"
					}
					if internal {
						name += "/internal"
					}
					t.Run(name, func(t *testing.T) {
						subject, body, err := s.Render(lang, "notice", v)
						if err != nil {
							t.Fatal(err)
						}
						checkNotice(t, lang, v, subject, body, requesterLabel[lang], contactsLabel[lang], filesLabel[lang])
					})
				}
			}
		}
	}
}

func checkNotice(t *testing.T, lang string, v View, subject, body, requesterLabel, contactsLabel, filesLabel string) {
	t.Helper()
	if want := v.Tag + " " + v.Subject; subject != want {
		t.Errorf("subject = %q, want %q", subject, want)
	}
	if strings.Contains(body, "<no value>") {
		t.Errorf("a field is missing:\n%s", body)
	}
	ls := lines(body)
	if len(ls) < 5 {
		t.Fatalf("body too short:\n%s", body)
	}
	if !strings.HasPrefix(ls[0], "##-") || !strings.HasSuffix(ls[0], "-##") {
		t.Errorf("first line %q is not the marker line", ls[0])
	}
	named := strings.Contains(ls[0], "NAME-REQ") || strings.Contains(ls[0], v.Requester)
	if named == v.Internal() {
		t.Errorf("marker line %q names the requester = %v; replies are internal = %v", ls[0], named, v.Internal())
	}
	if !strings.Contains(ls[1], v.Tag) {
		t.Errorf("the line saying what happened, %q, lacks the tag %s", ls[1], v.Tag)
	}
	requester := slices.IndexFunc(ls, func(l string) bool { return strings.HasPrefix(l, requesterLabel) })
	if requester < 0 || !strings.HasSuffix(ls[requester], "<alice@acme.example>") {
		t.Errorf("no line %q…<alice@acme.example>:\n%s", requesterLabel, body)
	}
	if has := slices.ContainsFunc(ls, func(l string) bool { return strings.HasPrefix(l, contactsLabel) }); has != (len(v.Contacts) > 0) {
		t.Errorf("contacts line present = %v with %d contacts:\n%s", has, len(v.Contacts), body)
	}
	if !slices.ContainsFunc(ls, func(l string) bool { return strings.Count(l, " · ") == 4 }) {
		t.Errorf("no facts line with four \" · \":\n%s", body)
	}
	if v.Body != "" && !strings.Contains(body, "\n\n"+v.Body+"\n") {
		t.Errorf("the body is not there in full after a blank line:\n%s", body)
	}
	if has := slices.ContainsFunc(ls, func(l string) bool { return strings.HasPrefix(l, filesLabel) }); has != (len(v.Attachments) > 0) {
		t.Errorf("attachments line present = %v with %d files:\n%s", has, len(v.Attachments), body)
	}
	if v.Attachments != nil && !strings.Contains(body, "report.txt (text/plain, "+size(lang, 2600)+")") {
		t.Errorf("the attachment is not named with its type and size:\n%s", body)
	}
	after, ok := afterSignature(body)
	if !ok || len(after) == 0 {
		t.Fatalf("no signature separator with lines after it:\n%s", body)
	}
	for _, l := range after {
		if !strings.Contains(l, "#") {
			t.Errorf("line after the separator without '#': %q", l)
		}
	}
}

func TestNoticeSaysWhatHappened(t *testing.T) {
	s := mustNew(t, "")
	en := map[string][]string{
		"new-case":       {"New case [Case #1042] from NAME-FROM <from@acme.example>, following [Case #1017]."},
		"customer-reply": {"NAME-FROM <from@acme.example> replied on [Case #1042]."},
		"reopened":       {"NAME-FROM <from@acme.example> reopened [Case #1042] with a reply."},
		"held":           {"A mail from NAME-FROM <from@acme.example> was held on [Case #1042] and sent to nobody: REASON-TEXT.", "#release to join it", "#release contact also adds its sender"},
		"undeliverable":  {"A mail on [Case #1042] could not be delivered: REASON-TEXT."},
		"escalated":      {"NAME-FROM <from@acme.example> escalated [Case #1042]"},
		"overdue":        {"[Case #1042] is past its first-response target", "(overdue by 2 h 5 min)"},
		"poor-rating":    {"NAME-FROM <from@acme.example> rated [Case #1042] 2 out of 5"},
		"note":           {"NAME-FROM <from@acme.example> added an internal note on [Case #1042]."},
	}
	// What every language must carry for a code, besides the tag.
	data := map[string][]string{
		"new-case": {"NAME-FROM", "[Case #1017]"}, "held": {"REASON-TEXT", "#release", "#release contact"},
		"undeliverable": {"REASON-TEXT"}, "poor-rating": {"2"}, "note": {"NAME-FROM"}, "customer-reply": {"NAME-FROM"},
	}
	for _, lang := range Languages() {
		said := map[string]string{}
		for _, code := range noticeCodes {
			t.Run(lang+"/"+code, func(t *testing.T) {
				v := agentView(code)
				if code == "overdue" {
					v.At = v.FirstResponseDue.Add(2*time.Hour + 5*time.Minute + 30*time.Second)
				}
				_, body, err := s.Render(lang, "notice", v)
				if err != nil {
					t.Fatal(err)
				}
				what := lines(body)[1]
				if other, ok := said[what]; ok {
					t.Errorf("%s and %s say the same: %q", code, other, what)
				}
				said[what] = code
				want := data[code]
				if lang == "en" {
					want = en[code]
				}
				for _, w := range want {
					if !strings.Contains(body, w) {
						t.Errorf("body lacks %q:\n%s", w, body)
					}
				}
			})
		}
	}
}

func TestTranscriptSaysWhatBecameOfTheMail(t *testing.T) {
	s := mustNew(t, "")
	for _, lang := range Languages() {
		said := map[string]string{}
		for _, code := range transcriptCodes {
			t.Run(lang+"/"+code, func(t *testing.T) {
				v := agentView(code)
				v.ReplyTo = "support+comment@example.com"
				v.Reason = "REASON-TEXT"
				v.Commands = []Command{{Line: "#LINE-X", Code: "not-run"}}
				subject, body, err := s.Render(lang, "transcript", v)
				if err != nil {
					t.Fatal(err)
				}
				if want := "Re: [Case #1042] ELB 503"; subject != want {
					t.Errorf("subject = %q, want %q", subject, want)
				}
				ls := lines(body)
				if !strings.HasPrefix(ls[0], "##-") || !strings.HasSuffix(ls[0], "-##") {
					t.Errorf("first line %q is not the marker line", ls[0])
				}
				if !strings.Contains(ls[1], v.Tag) {
					t.Errorf("%q lacks the tag", ls[1])
				}
				if other, ok := said[ls[1]]; ok {
					t.Errorf("%s and %s say the same: %q", code, other, ls[1])
				}
				said[ls[1]] = code
				if strings.Contains(body, "REPORTED-BODY") || strings.Contains(body, "<no value>") {
					t.Errorf("a transcript quotes the agent's text or misses a field:\n%s", body)
				}
				if code == "leak" && !strings.Contains(ls[1], "REASON-TEXT") {
					t.Errorf("leak does not name the line: %q", ls[1])
				}
				if code == "forged" && !strings.Contains(ls[1], "DMARC") {
					t.Errorf("forged does not say why: %q", ls[1])
				}
				if listed := strings.Contains(body, "\n  #LINE-X"); listed == (code == "forged") {
					t.Errorf("the command line listed = %v; a forged mail's lines are never shown:\n%s", listed, body)
				}
				after, ok := afterSignature(body)
				for _, l := range after {
					if !strings.Contains(l, "#") {
						t.Errorf("line after the separator without '#': %q", l)
					}
				}
				if !ok {
					t.Errorf("no signature separator:\n%s", body)
				}
			})
		}
	}
}

func TestTranscriptListsEveryCommand(t *testing.T) {
	s := mustNew(t, "")
	var cmds []Command
	for _, code := range resultCodes {
		cmds = append(cmds, Command{Line: "#CMD-" + code + " x", Code: code, Arg: "ARG-" + code})
	}
	argShown := []string{"done", "not-allowed", "bad-value", "too-many", "limit"}
	for _, lang := range Languages() {
		t.Run(lang, func(t *testing.T) {
			v := agentView("commands-only")
			v.Commands = cmds
			_, body, err := s.Render(lang, "transcript", v)
			if err != nil {
				t.Fatal(err)
			}
			said := map[string]string{}
			for _, c := range cmds {
				i := slices.IndexFunc(lines(body), func(l string) bool { return strings.HasPrefix(l, "  "+c.Line) })
				if i < 0 {
					t.Errorf("no line for %s:\n%s", c.Line, body)
					continue
				}
				result := strings.TrimPrefix(lines(body)[i], "  "+c.Line)
				if slices.Contains(argShown, c.Code) != strings.Contains(result, c.Arg) {
					t.Errorf("%s: %q, Arg shown = %v", c.Code, result, !slices.Contains(argShown, c.Code))
				}
				result = strings.ReplaceAll(result, c.Arg, "")
				if other, ok := said[result]; ok {
					t.Errorf("%s and %s say the same: %q", c.Code, other, result)
				}
				said[result] = c.Code
			}
		})
	}
}

func TestAgentMailsAreTranslated(t *testing.T) {
	s := mustNew(t, "")
	english := []string{"Reply", "replied", " held ", "Commands", "Requester", "answered", " plan", "unassigned",
		"overdue", "internal note", "was sent", "no such command", "not allowed", "choices", "first response",
		"Attachments", "Nothing", "Your ", " due ", " in 3 h"}
	// French puts a space before : ; ! ? (here a plain one, as the other templates do).
	frenchPunct := regexp.MustCompile(`[^\s][:;!?](\s|$)`)
	for _, lang := range []string{"fr", "ja"} {
		for _, kind := range []string{"notice", "transcript"} {
			codes := noticeCodes
			if kind == "transcript" {
				codes = transcriptCodes
			}
			for _, code := range codes {
				t.Run(lang+"/"+kind+"/"+code, func(t *testing.T) {
					v := agentView(code)
					v.Reason = "REASON"
					for _, c := range resultCodes {
						v.Commands = append(v.Commands, Command{Line: "#x", Code: c, Arg: "ARG"})
					}
					_, body, err := s.Render(lang, kind, v)
					if err != nil {
						t.Fatal(err)
					}
					for _, en := range english {
						if strings.Contains(body, en) {
							t.Errorf("English %q:\n%s", en, body)
						}
					}
					if lang == "fr" {
						for _, m := range frenchPunct.FindAllString(body, -1) {
							t.Errorf("no space before %q:\n%s", m, body)
						}
					}
				})
			}
		}
	}
}

func TestAgentFuncs(t *testing.T) {
	at := time.Date(2026, 11, 21, 9, 12, 0, 0, time.UTC)
	dues := []struct {
		lang string
		d    time.Duration
		want string
	}{
		{"en", 3*time.Hour + 48*time.Minute + 59*time.Second, "in 3 h 48 min"},
		{"en", -(2*time.Hour + 5*time.Minute + 30*time.Second), "overdue by 2 h 5 min"},
		{"en", 4 * time.Hour, "in 4 h"},
		{"en", 45 * time.Minute, "in 45 min"},
		{"en", 52*time.Hour + 10*time.Minute, "in 2 d 4 h"},
		{"en", 30 * time.Second, "now"},
		{"en", -30 * time.Second, "now"},
		{"fr", 3*time.Hour + 48*time.Minute, "dans 3 h 48 min"},
		{"fr", -(2*time.Hour + 5*time.Minute), "en retard de 2 h 5 min"},
		{"fr", 49 * time.Hour, "dans 2 j 1 h"},
		{"ja", 3*time.Hour + 48*time.Minute, "あと3時間48分"},
		{"ja", -(2*time.Hour + 5*time.Minute), "2時間5分超過"},
		{"de", 90 * time.Minute, "in 1 h 30 min"},
	}
	for _, tt := range dues {
		t.Run("due "+tt.lang+" "+tt.want, func(t *testing.T) {
			if got := due(tt.lang, at.Add(tt.d), at); got != tt.want {
				t.Errorf("due = %q, want %q", got, tt.want)
			}
		})
	}
	t.Run("due is empty without both times", func(t *testing.T) {
		if due("en", time.Time{}, at) != "" || due("en", at, time.Time{}) != "" {
			t.Error("due with a zero time is not empty")
		}
	})
	people := []struct{ name, addr, want string }{
		{"Alice Martin", "alice@acme.example", "Alice Martin <alice@acme.example>"},
		{"", "alice@acme.example", "<alice@acme.example>"},
		{"Alice@Acme.example", "alice@acme.example", "<alice@acme.example>"},
		{"Alice Martin", "", "Alice Martin"},
		{"", "", ""},
	}
	for _, tt := range people {
		if got := person(tt.name, tt.addr); got != tt.want {
			t.Errorf("person(%q, %q) = %q, want %q", tt.name, tt.addr, got, tt.want)
		}
	}
}
