package threading

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func FuzzFind(f *testing.F) {
	for _, s := range []string{
		"[Case #1042] ELB unreachable", "Re: [ case # 12 ] x", "［Case ＃１２］", "【Case #12】",
		"[Case #0]", "[Case #-3]", "[Case #99999999999999999999]", "[Ticket #12]", "[Case#12]",
		"x [", "[Case #", "\xff[Case #6]", "[Case #9223372036854775807]",
	} {
		f.Add("", s)
	}
	f.Add("Support Case", "[support  case #4]")
	f.Add("問い合わせ", "［問い合わせ ＃31］")
	f.Fuzz(func(t *testing.T, word, subject string) {
		tg := NewTagger(word)
		n, ok := tg.Find(subject)
		if !ok {
			if n != 0 {
				t.Fatalf("Find(%q) = %d, false; want 0 when not found", subject, n)
			}
			return
		}
		if n <= 0 {
			t.Fatalf("Find(%q) = %d, want a positive number", subject, n)
		}
		tag := tg.Format(n)
		if got, ok := tg.Find(tag); !ok || got != n {
			t.Fatalf("Find(Format(%d) = %q) = %d, %v", n, tag, got, ok)
		}
		out := tg.Subject(n, subject)
		if !strings.HasPrefix(out, tag) {
			t.Fatalf("Subject(%d, %q) = %q, does not start with %q", n, subject, out, tag)
		}
		if got, ok := tg.Find(out); !ok || got != n {
			t.Fatalf("Find(Subject(%d, %q) = %q) = %d, %v", n, subject, out, got, ok)
		}
	})
}

func FuzzParseMessageIDs(f *testing.F) {
	for _, s := range []string{
		"<a@x.example> <b@x.example>", "<a@x.example>, <b@x.example>", "a@x b@y,c@z",
		"(comment <c@x>) <a@x>", `(a \) b) <a@x>`, "<a@x <b@y>", "<a1@\r\n x>", "<>", "<<<>>>,,,(((",
		"<a@x\u00a0y>", "a@x\u2028b@y", "\xff<\xfe@\xfd>",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		ids := ParseMessageIDs(header)
		if ids != nil && len(ids) == 0 {
			t.Fatalf("ParseMessageIDs(%q) returned an empty non-nil slice", header)
		}
		seen := make(map[string]bool)
		for _, id := range ids {
			if id == "" || strings.ContainsAny(id, "<>") || strings.ContainsFunc(id, unicode.IsSpace) {
				t.Fatalf("ParseMessageIDs(%q) gave %q", header, id)
			}
			if seen[id] {
				t.Fatalf("ParseMessageIDs(%q) repeated %q", header, id)
			}
			seen[id] = true
			if NormalizeMessageID(id) != id {
				t.Fatalf("ParseMessageIDs(%q) gave %q, not normalised", header, id)
			}
		}
	})
}

func FuzzStripQuoted(f *testing.F) {
	for _, s := range []string{
		"Thanks.\n\nOn Mon, 3 Feb 2025 at 10:12, Support <support@desk.example> wrote:\n> hi\n",
		"> q\nanswer\n> q2\n", "Hi\r\n-- \r\nAlice\r\n", "-----Original Message-----\nFrom: x\n",
		"ok\n________________________________\nFrom: a\nSent: b\n", "From: a\nSent: b",
		"確認しました。\n\n2025年2月3日(月) 10:12 Support <support@desk.example>:\n\n> x",
		"On Mon, Feb 3, 2025 at 10:12 AM Support <\nsupport@desk.example> wrote:\n> x",
		"\r\r\n\n \u00a0\n", "x\n寫道：\n> y", "<\n(<", "On 1\n:",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		out := StripQuoted(text)
		if len(out) > len(text) {
			t.Fatalf("StripQuoted(%q) = %q is longer than the input", text, out)
		}
		if utf8.ValidString(text) && !utf8.ValidString(out) {
			t.Fatalf("StripQuoted(%q) = %q is not valid UTF-8", text, out)
		}
		if strings.Contains(out, "\r") {
			t.Fatalf("StripQuoted(%q) = %q still holds a CR", text, out)
		}
	})
}

// FuzzCutAgentReply: what CutAgentReply keeps is a piece of the text, holds
// no marker line and no quote, and is what it keeps again.
func FuzzCutAgentReply(f *testing.F) {
	for _, s := range []string{
		"Done.\n\nOn Wed, Dec 2, 2026 at 9:12 AM Example Support <support@example.com> wrote:\n> ##- Reply above -##\n",
		"Done.\r\n________________________________\r\nFrom: a\r\nSent: b\r\n", "x\n##-", "#\n#-", "a\r#\r##-\r\n",
		"Done.\nOn Wednesday, Example Support\nwrote:\n\n> q", "確認しました。\n差出人: a\n宛先: b\n", "\u00a0> x\n＞ y",
		"--\n", "\xff>\n>\xfe", "\n\n  x  \n\n", "The installer wrote:\nERROR\n",
	} {
		f.Add(s)
	}
	fixtures, _ := filepath.Glob(filepath.Join("testdata", "agent-replies", "*.txt"))
	for _, path := range fixtures {
		if b, err := os.ReadFile(path); err == nil {
			f.Add(string(b))
		}
	}
	f.Fuzz(func(t *testing.T, text string) {
		out := CutAgentReply(text)
		if len(out) > len(text) {
			t.Fatalf("CutAgentReply(%q) = %q is longer than the input", text, out)
		}
		if utf8.ValidString(text) && !utf8.ValidString(out) {
			t.Fatalf("CutAgentReply(%q) = %q is not valid UTF-8", text, out)
		}
		if strings.Contains(out, ReplyMarker) || strings.Contains(out, "\r") {
			t.Fatalf("CutAgentReply(%q) = %q holds the marker or a CR", text, out)
		}
		for _, l := range strings.Split(out, "\n") {
			if isAgentQuote(l) {
				t.Fatalf("CutAgentReply(%q) = %q keeps the quoted line %q", text, out, l)
			}
		}
		if !strings.Contains(toLF(text), out) {
			t.Fatalf("CutAgentReply(%q) = %q is not a piece of the text", text, out)
		}
		if again := CutAgentReply(out); again != out {
			t.Fatalf("CutAgentReply(%q) = %q, but CutAgentReply of that is %q", text, out, again)
		}
	})
}

// FuzzIDsCase: Case and SentTo accept nothing they did not make, New and
// NewFor ids round trip, and changing any byte of their local part makes
// them fail.
func FuzzIDsCase(f *testing.F) {
	g, err := NewIDs(testKey, "desk.example", nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Add("pd.1042.0001020304050607.5p3oogro6id6woyiglxq@desk.example", int64(1042), int64(5), "lee@example.com", uint(3), byte('x'))
	f.Add("<pd.7.08090a0b0c0d0e0f.cxg2ih4ousp7xcbqpxha@DESK.example>", int64(7), int64(0), "<Lee@Example.COM>", uint(0), byte('.'))
	f.Add("pd.7.0001020304050607.qucbuxp7x54rxkqips5a.42.jgmswilokmftdmj5fgoa@desk.example", int64(7), int64(42), "lee@example.com", uint(60), byte('a'))
	f.Add("garbage", int64(-1), int64(-1), "", uint(100), byte(0))
	f.Add("pd.0.0.0@desk.example", int64(9223372036854775807), int64(9223372036854775807), "\u212aim@x", uint(20), byte('@'))
	f.Fuzz(func(t *testing.T, msgid string, n, msg int64, recipient string, pos uint, b byte) {
		got, ok := g.Case(msgid)
		if ok != (got > 0) {
			t.Fatalf("Case(%q) = %d, %v", msgid, got, ok)
		}
		if sn, smsg, sok := g.SentTo(msgid, recipient); sok && (sn != got || !ok || smsg < 0) {
			t.Fatalf("SentTo(%q, %q) = %d, %d, true but Case = %d, %v", msgid, recipient, sn, smsg, got, ok)
		}
		if n <= 0 {
			return
		}
		checkChanged(t, g.New(n), n, pos, b, g.Ours)
		id := g.NewFor(n, msg, recipient)
		if got, ok := g.Case(id); !ok || got != n {
			t.Fatalf("Case(NewFor(%d, %d, %q) = %q) = %d, %v", n, msg, recipient, id, got, ok)
		}
		if AddressKey(recipient) == "" {
			return
		}
		if sn, smsg, sok := g.SentTo(id, upperASCII(recipient)); !sok || sn != n || smsg != max(msg, 0) {
			t.Fatalf("SentTo(NewFor(%d, %d, %q) = %q, %q) = %d, %d, %v", n, msg, recipient, id, upperASCII(recipient), sn, smsg, sok)
		}
		if other := recipient + string([]byte{b}); AddressKey(other) != AddressKey(recipient) {
			if _, _, sok := g.SentTo(id, other); sok {
				t.Fatalf("SentTo(%q, %q) accepted an id made for %q", id, other, recipient)
			}
		}
		checkChanged(t, id, n, pos, b, func(changed string) bool {
			_, _, ok := g.SentTo(changed, recipient)
			return ok
		})
	})
}

// checkChanged fails t if valid still accepts id after byte pos (modulo the
// length of the local part) is changed to b.
func checkChanged(t *testing.T, id string, n int64, pos uint, b byte, valid func(string) bool) {
	t.Helper()
	local := strings.LastIndexByte(id, '@')
	i := int(pos % uint(local))
	if id[i] == b {
		return
	}
	changed := id[:i] + string([]byte{b}) + id[i+1:]
	if valid(changed) {
		t.Fatalf("%q verifies after changing byte %d of %q (case %d)", changed, i, id, n)
	}
}
