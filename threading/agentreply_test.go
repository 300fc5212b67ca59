package threading

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCutAgentReplyFixtures cuts the text/plain bodies that mail clients send
// when an agent replies to a notice (testdata/agent-replies/NAME.txt) and
// compares the result with NAME.want, whose last LF is not part of it.
func TestCutAgentReplyFixtures(t *testing.T) {
	bodies, err := filepath.Glob(filepath.Join("testdata", "agent-replies", "*.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(bodies) < 10 {
		t.Fatalf("found %d fixtures in testdata/agent-replies, want the whole set", len(bodies))
	}
	for _, path := range bodies {
		name := strings.TrimSuffix(filepath.Base(path), ".txt")
		t.Run(name, func(t *testing.T) {
			body, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(strings.TrimSuffix(path, ".txt") + ".want")
			if err != nil {
				t.Fatalf("no expected answer: %v", err)
			}
			if got := CutAgentReply(string(body)); got != strings.TrimSuffix(string(want), "\n") {
				t.Errorf("CutAgentReply(%s) =\n%s\n---- want ----\n%s", path, got, want)
			}
		})
	}
}

func TestCutAgentReply(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"text without history is kept", "Fixed.\n\nLee", "Fixed.\n\nLee"},
		{"marker line cuts", lines("Done.", "##- Reply above this line -##", "notice"), "Done."},
		{"marker in the middle of a line cuts", lines("Done.", "   see ##- above", "x"), "Done."},
		{"quoted marker cuts", lines("Done.", "> ##- Reply above this line -##"), "Done."},
		{"marker after an introducing colon line cuts both", lines("Done.", "", "Example Support wrote:", "", "##- Reply"), "Done."},
		{"marker first gives nothing", lines("##- Reply above this line -##", "Done."), ""},
		{"first quote cuts with its attribution", lines("Done.", "Example Support wrote:", "> notice"), "Done."},
		{"full-width quote cuts", lines("了解です。", "＞ お問い合わせ"), "了解です。"},
		{"indented quote cuts", lines("Done.", " \t> notice"), "Done."},
		{"quote after a no-break space cuts", lines("Done.", "\u00a0> notice"), "Done."},
		{"inline reply below a quote is cut", lines("Above.", "> q", "inline answer", "> q2", "more"), "Above."},
		{"sentence ending in a colon above a quote is cut", lines("Done.", "", "You asked:", "", "> q"), "Done."},
		{"wrapped attribution above a quote is cut", lines("Done.", "On Wednesday Example Support <support@example.com>", "wrote:", "> q"), "Done."},
		{"wrapped weak attribution above a quote is cut", lines("Done.", "On Wednesday, Example Support", "wrote:", "", "> q"), "Done."},
		{"wrapped Japanese attribution above a quote is cut", lines("確認しました。", "Example Support", "さんは書きました:", "> q"), "確認しました。"},
		{"sentence above a short attribution is kept", lines("Thanks for the update.", "He wrote:", "> q"), "Thanks for the update."},
		{"Gmail attribution without a quote cuts", lines("Done.", "On Wed, Dec 2, 2026 at 9:12 AM Example Support <support@example.com> wrote:", "notice"), "Done."},
		{"Gmail attribution wrapped before the address cuts", lines("Done.", "On Wed, Dec 2, 2026 at 9:12 AM Example Support <", "support@example.com> wrote:", "notice"), "Done."},
		{"Gmail attribution wrapped before the verb cuts", lines("Done.", "On Wed, Dec 2, 2026 at 9:12 AM Example Support <support@example.com>", "wrote:", "notice"), "Done."},
		{"Thunderbird attribution cuts", lines("Done.", "On 12/2/26 09:12, Example Support wrote:", "notice"), "Done."},
		{"French attribution cuts", lines("Fait.", "Le 02/12/2026 à 09:12, Example Support a écrit\u00a0:", "avis"), "Fait."},
		{"German Gmail attribution cuts", lines("Erledigt.", "Am Mi., 2. Dez. 2026 um 09:12 Uhr schrieb Example Support <support@example.com>:", "x"), "Erledigt."},
		{"German Thunderbird attribution cuts", lines("Erledigt.", "Am 02.12.26 um 09:12 schrieb Example Support:", "x"), "Erledigt."},
		{"Japanese Gmail attribution cuts", lines("確認しました。", "2026年12月2日(水) 9:12 Example Support <support@example.com>:", "x"), "確認しました。"},
		{"Japanese Apple Mail attribution cuts", lines("確認しました。", "2026/12/02 9:12、Example Support <support@example.com>のメッセージ:", "x"), "確認しました。"},
		{"Japanese attribution with a date cuts", lines("確認しました。", "2026/12/02 9:12 に Example Support さんは書きました:", "x"), "確認しました。"},
		{"prose ending in wrote followed by text is kept", lines("The installer wrote:", "ERROR: failed", "", "Retrying."), "The installer wrote:\nERROR: failed\n\nRetrying."},
		{"Outlook header block cuts", lines("Done.", "From: Example Support <support@example.com>", "Sent: Wednesday, December 2, 2026 9:12 AM", "x"), "Done."},
		{"Outlook header block with Date cuts", lines("Done.", "From: Example Support <support@example.com>", "Date: Wednesday, 2 December 2026 at 09:12", "x"), "Done."},
		{"header block without a date cuts at To", lines("Done.", "From: Example Support <support@example.com>", "To: Lee Chen <lee@example.com>", "x"), "Done."},
		{"header block without a date cuts at Subject", lines("Done.", "*From:* Example Support", "*Subject:* [Case #7] ELB unreachable", "x"), "Done."},
		{"French Outlook block cuts", lines("Fait.", "De : Example Support <support@example.com>", "Envoyé : mercredi 2 décembre 2026 09:12"), "Fait."},
		{"French Outlook block without the date cuts", lines("Fait.", "De\u00a0: Example Support", "À\u00a0: Lee Chen", "x"), "Fait."},
		{"German Outlook block cuts", lines("Erledigt.", "Von: Example Support <support@example.com>", "Gesendet: Mittwoch, 2. Dezember 2026 09:12", "x"), "Erledigt."},
		{"German Outlook block without the date cuts", lines("Erledigt.", "Von: Example Support", "An: Lee Chen", "Betreff: [Case #7]"), "Erledigt."},
		{"Japanese Outlook block cuts", lines("確認しました。", "差出人: Example Support <support@example.com>", "送信日時: 2026年12月2日 9:12", "x"), "確認しました。"},
		{"Japanese Outlook block without the date cuts", lines("確認しました。", "差出人: Example Support", "宛先: Lee Chen", "件名: [Case #7]"), "確認しました。"},
		{"a From sentence alone is kept", lines("From: our side nothing changed.", "Sure."), "From: our side nothing changed.\nSure."},
		{"underscores before a header cut", lines("Done.", "________________________________", "From: Example Support"), "Done."},
		{"Original Message cuts", lines("Done.", "-----Original Message-----", "x"), "Done."},
		{"French separator cuts", lines("Fait.", "-----Message d'origine-----", "x"), "Fait."},
		{"German separator cuts", lines("Erledigt.", "-----Ursprüngliche Nachricht-----", "x"), "Erledigt."},
		{"Japanese separator cuts", lines("確認しました。", "-----元のメッセージ-----", "x"), "確認しました。"},
		{"forwarded message marker cuts", lines("FYI.", "Begin forwarded message:", "x"), "FYI."},
		{"signature separator cuts", lines("Done.", "-- ", "Lee Chen"), "Done."},
		{"signature separator without its space cuts", lines("Done.", "--", "Lee Chen"), "Done."},
		{"signature separator with CRLF cuts", "Done.\r\n-- \r\nLee Chen\r\n", "Done."},
		{"dashes inside a line are kept", "Run it with --force -- twice.", "Run it with --force -- twice."},
		{"CRLF becomes LF", "a\r\nb\rc\r\n", "a\nb\nc"},
		{"leading blank lines are removed", "\n \t\n\u00a0\n  indented\nb", "  indented\nb"},
		{"trailing white space is removed", "a  \n\n \t", "a"},
		{"white space only gives nothing", " \r\n\t\n", ""},
		{"empty gives nothing", "", ""},
		{"all quote gives nothing", lines("> a", "> b"), ""},
		{"only a signature gives nothing", lines("-- ", "Lee"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CutAgentReply(tt.in); got != tt.want {
				t.Errorf("CutAgentReply(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestCutAgentReplyFailsClosedWhereStripQuotedKeepsText(t *testing.T) {
	tests := []struct {
		name string
		in   string
	}{
		{"all quote", lines("> ##- Reply above this line -##", "> notice")},
		{"inline reply", lines("> notice", "my answer")},
		{"unquoted notice", lines("##- Reply above this line -##", "", "New case [Case #7]")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CutAgentReply(tt.in); got != "" {
				t.Errorf("CutAgentReply(%q) = %q, want nothing", tt.in, got)
			}
			if StripQuoted(tt.in) == "" {
				t.Errorf("StripQuoted(%q) is empty; it should keep the text", tt.in)
			}
		})
	}
}
