package threading

import (
	"strings"
	"testing"
)

// lines joins its arguments with LF, to write test mails one line per
// argument.
func lines(l ...string) string { return strings.Join(l, "\n") }

func TestStripQuotedTopPosting(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"Gmail reply cuts at the attribution",
			lines(
				"Thanks, the ELB is reachable again.",
				"",
				"On Mon, 3 Feb 2025 at 10:12, Support <support@desk.example> wrote:",
				"",
				"> Hello Alice,",
				"> we restarted the load balancer.",
				">",
				"> [Case #1042]",
			),
			"Thanks, the ELB is reachable again."},
		{"Gmail attribution wrapped over two lines",
			lines(
				"Works now.",
				"",
				"On Mon, Feb 3, 2025 at 10:12 AM Postdesk Support Team <",
				"support@desk.example> wrote:",
				"",
				"> Hello,",
			),
			"Works now."},
		{"Gmail attribution wrapped before wrote",
			lines(
				"Works now.",
				"",
				"On Fri, Mar 1, 2025 at 3:52 PM Postdesk Support <support@desk.example>",
				"wrote:",
				"",
				"> Hello,",
			),
			"Works now."},
		{"wrapped attribution with the address on the second line",
			lines(
				"Works now.",
				"On Mon, Feb 3, 2025 at 10:12 AM Postdesk Support Team",
				"<support@desk.example> wrote:",
				"> Hello,",
			),
			"Works now."},
		{"Apple Mail quotes its attribution",
			lines(
				"Still failing, see attached log.",
				"",
				"Sent from my iPhone",
				"",
				"> On 3 Feb 2025, at 10:12, Support <support@desk.example> wrote:",
				"> ",
				"> Could you send the log?",
			),
			"Still failing, see attached log.\n\nSent from my iPhone"},
		{"Thunderbird attribution",
			lines(
				"Yes, that fixed it.",
				"",
				"On 03/02/2025 10:12, Support wrote:",
				"> Please try again.",
			),
			"Yes, that fixed it."},
		{"old Thunderbird attribution without date",
			lines(
				"Yes, that fixed it.",
				"",
				"Support wrote:",
				"> Please try again.",
			),
			"Yes, that fixed it."},
		{"Gmail in French",
			lines(
				"Merci, c'est réglé.",
				"",
				"Le lun. 3 févr. 2025 à 10:12, Support <support@desk.example> a écrit :",
				"",
				"> Bonjour,",
			),
			"Merci, c'est réglé."},
		{"Thunderbird in French with a no-break space before the colon",
			lines(
				"Merci.",
				"Le 03/02/2025 à 10:12, Support a écrit\u00a0:",
				"> Bonjour,",
			),
			"Merci."},
		{"Gmail in German",
			lines(
				"Danke, läuft wieder.",
				"",
				"Am Mo., 3. Feb. 2025 um 10:12 Uhr schrieb Support <support@desk.example>:",
				"> Hallo,",
			),
			"Danke, läuft wieder."},
		{"Thunderbird in German",
			lines(
				"Danke.",
				"",
				"Am 03.02.25 um 10:12 schrieb Support:",
				"> Hallo,",
			),
			"Danke."},
		{"Apple Mail in Japanese",
			lines(
				"ありがとうございます。復旧しました。",
				"",
				"2025/02/03 10:12、Support <support@desk.example>のメッセージ:",
				"",
				"> お問い合わせありがとうございます。",
			),
			"ありがとうございます。復旧しました。"},
		{"Gmail in Japanese",
			lines(
				"確認しました。",
				"",
				"2025年2月3日(月) 10:12 Support <support@desk.example>:",
				"",
				"> お世話になっております。",
			),
			"確認しました。"},
		{"Japanese writer quoting with full-width signs",
			lines(
				"了解です。",
				"",
				"＞ ログを送ってください。",
				"＞ よろしくお願いします。",
			),
			"了解です。"},
		{"Gmail in Chinese",
			lines(
				"谢谢，问题已解决。",
				"",
				"Support <support@desk.example> 于2025年2月3日周一 10:12写道：",
				"",
				"> 您好，",
			),
			"谢谢，问题已解决。"},
		{"Gmail in traditional Chinese wrapped before the verb",
			lines(
				"謝謝。",
				"",
				"Support <support@desk.example> 於 2025年2月3日 週一 上午10:12",
				"寫道：",
				"",
				"> 您好，",
			),
			"謝謝。"},
		{"Gmail in Spanish wrapped before the address",
			lines(
				"Gracias.",
				"",
				"El lun, 3 feb 2025 a las 10:12, Postdesk Support Team",
				"(<support@desk.example>) escribió:",
				"> Hola,",
			),
			"Gracias."},
		{"Gmail in Dutch",
			lines(
				"Bedankt.",
				"",
				"Op ma 3 feb. 2025 om 10:12 schreef Support <support@desk.example>:",
				"> Hallo,",
			),
			"Bedankt."},
		{"Outlook separator",
			lines(
				"Please close the case.",
				"",
				"-----Original Message-----",
				"From: Support <support@desk.example>",
				"Sent: Monday, February 3, 2025 10:12 AM",
				"Subject: [Case #1042] ELB unreachable",
			),
			"Please close the case."},
		{"Outlook separator in German",
			lines(
				"Bitte schließen.",
				"-----Ursprüngliche Nachricht-----",
				"Von: Support <support@desk.example>",
			),
			"Bitte schließen."},
		{"Outlook separator in French",
			lines(
				"Merci de clôturer.",
				"",
				"----- Message d'origine -----",
				"De : Support",
			),
			"Merci de clôturer."},
		{"Outlook separator in French with a typographic apostrophe",
			lines(
				"Merci.",
				"----- Message d’origine -----",
				"De : Support",
			),
			"Merci."},
		{"Thunderbird separator in Japanese",
			lines(
				"よろしくお願いします。",
				"",
				"-------- 元のメッセージ --------",
				"件名: [Case #3] 障害",
			),
			"よろしくお願いします。"},
		{"Gmail forwarded message",
			lines(
				"FYI, see below.",
				"",
				"---------- Forwarded message ---------",
				"From: Bob <bob@acme.example>",
			),
			"FYI, see below."},
		{"Apple Mail forwarded message",
			lines(
				"FYI",
				"",
				"Begin forwarded message:",
				"",
				"From: Bob <bob@acme.example>",
			),
			"FYI"},
		{"Outlook web underscores then From",
			lines(
				"Thanks!",
				"",
				"________________________________",
				"From: Support <support@desk.example>",
				"Sent: Monday, February 3, 2025 10:12",
				"To: Alice <alice@acme.example>",
			),
			"Thanks!"},
		{"Outlook web underscores then French De with a blank line",
			lines(
				"Merci !",
				"________________________________",
				"",
				"De : Support <support@desk.example>",
				"Envoyé : lundi 3 février 2025 10:12",
			),
			"Merci !"},
		{"Outlook underscores then Japanese sender",
			lines(
				"承知しました。",
				"",
				"________________________________",
				"差出人: Support <support@desk.example>",
				"送信日時: 2025年2月3日 10:12",
			),
			"承知しました。"},
		{"Outlook header block without separator",
			lines(
				"Any update?",
				"",
				"From: Support <support@desk.example>",
				"Sent: Monday, February 3, 2025 10:12 AM",
				"To: Alice <alice@acme.example>",
				"Subject: RE: [Case #1042] ELB unreachable",
				"",
				"Hello Alice,",
			),
			"Any update?"},
		{"Outlook header block in French",
			lines(
				"Des nouvelles ?",
				"",
				"De : Support <support@desk.example>",
				"Envoyé : lundi 3 février 2025 10:12",
				"À : Alice",
				"Objet : RE: [Case #5] Facture",
			),
			"Des nouvelles ?"},
		{"Outlook header block in German",
			lines(
				"Gibt es Neuigkeiten?",
				"",
				"Von: Support <support@desk.example>",
				"Gesendet: Montag, 3. Februar 2025 10:12",
			),
			"Gibt es Neuigkeiten?"},
		{"Outlook for Mac header block with Date",
			lines(
				"Any update?",
				"",
				"From: Support <support@desk.example>",
				"Date: Monday, 3 February 2025 at 10:12",
				"To: Alice <alice@acme.example>",
			),
			"Any update?"},
		{"Outlook header block with To before Sent",
			lines(
				"Any update?",
				"From: Support <support@desk.example>",
				"To: Alice <alice@acme.example>",
				"Sent: Monday, 3 February 2025 at 10:12",
			),
			"Any update?"},
		{"header block in bold from HTML mail",
			lines(
				"Any update?",
				"",
				"*From:* Support <support@desk.example>",
				"*Sent:* Monday, February 3, 2025 10:12 AM",
			),
			"Any update?"},
		{"Japanese Outlook header block with full-width colons",
			lines(
				"ご確認ください。",
				"",
				"差出人： Support <support@desk.example>",
				"送信日時： 2025年2月3日 10:12",
			),
			"ご確認ください。"},
		{"signature separator",
			lines(
				"The disk is full again.",
				"",
				"-- ",
				"Alice Example",
				"ACME Corp.",
			),
			"The disk is full again."},
		{"signature before quoted history",
			lines(
				"Closing, thanks.",
				"-- ",
				"Alice",
				"",
				"On Mon, 3 Feb 2025 at 10:12, Support <support@desk.example> wrote:",
				"> Hi",
			),
			"Closing, thanks."},
		{"HTML mail turned into text with unquoted history",
			lines(
				"Thanks, solved.",
				"",
				"On Mon, 3 Feb 2025 at 10:12, Support <support@desk.example> wrote:",
				"",
				"Hello Alice,",
				"we restarted the load balancer.",
			),
			"Thanks, solved."},
		{"attribution followed by nothing",
			lines(
				"Thanks.",
				"On Mon, 3 Feb 2025 at 10:12, Support <support@desk.example> wrote:",
				"",
			),
			"Thanks."},
		{"quote block with a loose attribution above",
			lines(
				"Gracias.",
				"",
				"Support <support@desk.example> dijo el 03/02/2025:",
				"> Hola",
			),
			"Gracias."},
		{"quote block ending in signature material",
			lines(
				"Done.",
				"",
				"> Please reboot.",
				"",
				"-- ",
				"Alice",
			),
			"Done."},
		{"quote block with nested attribution and older quotes",
			lines(
				"Done.",
				"",
				"> Please reboot.",
				">",
				"On Sun, 2 Feb 2025 at 09:00, Alice <alice@acme.example> wrote:",
				">> It is down.",
			),
			"Done."},
		{"earliest marker wins",
			lines(
				"Short answer.",
				"-- ",
				"Alice",
				"-----Original Message-----",
				"From: x",
			),
			"Short answer."},
	}
	runStripQuoted(t, tests)
}

func TestStripQuotedKeepsNewText(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"text without quotes is unchanged", "Hello,\n\nthe ELB is down.\n\nAlice", "Hello,\n\nthe ELB is down.\n\nAlice"},
		{"inline replies are kept",
			lines(
				"Hi,",
				"",
				"> Which region?",
				"eu-west-1.",
				"",
				"> Since when?",
				"Since 10:00 UTC.",
			),
			lines("Hi,", "", "> Which region?", "eu-west-1.", "", "> Since when?", "Since 10:00 UTC.")},
		{"inline replies under an attribution keep the attribution",
			lines(
				"See my answers below.",
				"",
				"On Mon, 3 Feb 2025 at 10:12, Support <support@desk.example> wrote:",
				"> Which region?",
				"eu-west-1.",
				"> Since when?",
				"Since 10:00 UTC.",
				"",
				"-- ",
				"Alice",
			),
			lines(
				"See my answers below.",
				"",
				"On Mon, 3 Feb 2025 at 10:12, Support <support@desk.example> wrote:",
				"> Which region?",
				"eu-west-1.",
				"> Since when?",
				"Since 10:00 UTC.",
			)},
		{"trailing quote after inline replies is cut",
			lines(
				"> Which region?",
				"eu-west-1.",
				"",
				"> Anything else?",
				"> Regards, Support",
			),
			lines("> Which region?", "eu-west-1.")},
		{"bottom posting keeps the quote above the answer",
			lines(
				"On Mon, 3 Feb 2025 at 10:12, Support <support@desk.example> wrote:",
				"> Could you send the log?",
				"",
				"Here it is, attached.",
			),
			lines(
				"On Mon, 3 Feb 2025 at 10:12, Support <support@desk.example> wrote:",
				"> Could you send the log?",
				"",
				"Here it is, attached.",
			)},
		{"prose ending in wrote is kept before a pasted log",
			lines(
				"Here is what the installer wrote:",
				"",
				"ERROR could not open /var/lib/app",
				"",
				"Regards",
			),
			lines("Here is what the installer wrote:", "", "ERROR could not open /var/lib/app", "", "Regards")},
		{"rewrote is no attribution",
			lines(
				"I rewrote the config on 3 Feb:",
				"listen 8080",
			),
			lines("I rewrote the config on 3 Feb:", "listen 8080")},
		{"prose starting with On is not an attribution",
			lines(
				"On our side everything looks fine",
				"Support wrote:",
				"> Is it fixed?",
			),
			"On our side everything looks fine"},
		{"two dashes without a space are no signature",
			lines("Step one", "--", "Step two"),
			lines("Step one", "--", "Step two")},
		{"From line alone is no header block",
			lines("From: the monitoring dashboard", "the latency went up."),
			lines("From: the monitoring dashboard", "the latency went up.")},
		{"short underscore line is no separator",
			lines("Name: ________", "From: Alice"),
			lines("Name: ________", "From: Alice")},
		{"dashes around other words are no separator",
			lines("----- Step 2 -----", "Restart."),
			lines("----- Step 2 -----", "Restart.")},
		{"quoted shell prompt followed by text is kept",
			lines("I ran", "> make install", "and it failed."),
			lines("I ran", "> make install", "and it failed.")},
	}
	runStripQuoted(t, tests)
}

func TestStripQuotedEdges(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"empty text", "", ""},
		{"blank text", " \n\n", ""},
		{"all quote is returned unchanged", "> only a quote\n> nothing new\n\n", "> only a quote\n> nothing new"},
		{"only attribution and quote is returned unchanged",
			"On Mon, 3 Feb 2025 at 10:12, Support <support@desk.example> wrote:\n> hi\n",
			"On Mon, 3 Feb 2025 at 10:12, Support <support@desk.example> wrote:\n> hi"},
		{"forward without comment is returned unchanged",
			"-----Original Message-----\nFrom: Bob\n\nHello\n",
			"-----Original Message-----\nFrom: Bob\n\nHello"},
		{"leading blank lines before a quote leave nothing",
			"\n\n> hi", "\n\n> hi"},
		{"CRLF becomes LF", "Thanks.\r\nSecond line.\r\n\r\n> quoted\r\n", "Thanks.\nSecond line."},
		{"lone CR becomes LF", "Thanks.\rSecond line.\r\r> quoted\r", "Thanks.\nSecond line."},
		{"trailing blank lines are trimmed", "Thanks.\n\n \n\t\n", "Thanks."},
		{"trailing spaces on the last line are trimmed", "Thanks.   ", "Thanks."},
		{"leading blank lines are kept", "\n\nThanks.\n> q", "\n\nThanks."},
		{"signature with CRLF", "Hi\r\n-- \r\nAlice\r\n", "Hi"},
		{"indented quote", "Thanks.\n  > quoted", "Thanks."},
	}
	runStripQuoted(t, tests)
}

// runStripQuoted runs table tests of StripQuoted.
func runStripQuoted(t *testing.T, tests []struct {
	name string
	in   string
	want string
}) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := StripQuoted(tt.in)
			if got != tt.want {
				t.Errorf("StripQuoted(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
			if len(got) > len(tt.in) {
				t.Errorf("result is longer than the input: %d > %d", len(got), len(tt.in))
			}
		})
	}
}
