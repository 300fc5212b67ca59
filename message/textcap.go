package message

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/inbucket/html2text"
	"github.com/jhillyerd/enmime/v2"
)

// The cap on stored text (DESIGN §14, "bounded work per mail"): a parsed
// message keeps at most TextBytes of text and of HTML, cut at a character
// boundary (a line or tag end when one is near) and ended by a marker line;
// the raw mail, which the desk stores whole, keeps everything. The work is
// bounded too: the HTML is cut before it is sanitised and converted to text
// (the costly steps: a 24 MB report table took 1.7 s and 900 MB), and a big
// text body is cut in the view enmime parses (textcut.go), so that enmime
// never decodes more than a few times TextBytes of it.

// DefaultTextBytes is the cap on the text and on the HTML body a parsed
// message keeps when ParseOptions.TextBytes is 0 (mailin.Intake.TextBytes,
// limits.text_bytes).
const DefaultTextBytes = 1 << 20

// minTextBytes is the smallest cap ParseOptions.TextBytes gives: the marker
// must fit.
const minTextBytes = 1 << 10

// textWork is how many times the cap of text is decoded, cleaned and
// cut: cleaning drops the CR of every CRLF, so a text clipped at the cap
// before cleaning would end up shorter than it.
const textWork = 2

// cutSlack is how far back from the cap a cut looks for a line end (text)
// or a tag end (HTML), and how far forward the view cut looks for a line
// end.
const cutSlack = 4 << 10

// textLimit is the cap for a configured TextBytes: 0 means
// DefaultTextBytes, small values minTextBytes.
func textLimit(n int64) int {
	switch {
	case n <= 0:
		return DefaultTextBytes
	case n < minTextBytes:
		return minTextBytes
	case n > 1<<40:
		return 1 << 40
	}
	return int(n)
}

// cutMarker is the line that ends a body cut at limit bytes.
func cutMarker(limit int) string {
	return "[… text cut at " + sizeName(limit) + "; the whole mail is kept]"
}

// sizeName writes n bytes as people read it: "1 MiB", "64 KiB", "1000 bytes".
func sizeName(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// cutAt returns where to cut s so that at most n bytes remain: len(s) when
// it is short enough, else a UTF-8 character boundary at or before n, moved
// back to just after the last pref byte (a line or tag end) within
// cutSlack bytes when there is one.
func cutAt(s string, n int, pref byte) int {
	if len(s) <= n {
		return len(s)
	}
	i := max(n, 0)
	for j := 0; j < utf8.UTFMax && i > 0 && !utf8.RuneStart(s[i]); j++ {
		i--
	}
	from := max(0, i-cutSlack)
	if k := strings.LastIndexByte(s[from:i], pref); k >= 0 {
		i = from + k + 1
	}
	return i
}

// clip cuts s to at most n bytes (cutAt, at a line end when near) and says
// whether it did. It bounds the input of the work whose cost grows with it:
// sanitising, converting HTML to text, cleaning, classifying.
func clip(s string, n int) (string, bool) {
	i := cutAt(s, n, '\n')
	return s[:i], i < len(s)
}

// capText cuts valid UTF-8 text to at most limit bytes, ended by the
// marker line, when it is longer or was cut before (cut).
func capText(s string, limit int, cut bool) string {
	if !cut && len(s) <= limit {
		return s
	}
	marker := cutMarker(limit)
	s = s[:cutAt(s, limit-len(marker)-1, '\n')]
	if s != "" && !strings.HasSuffix(s, "\n") {
		s += "\n"
	}
	return s + marker
}

// capHTML cuts sanitised HTML to at most limit bytes, ended by the marker
// in a paragraph, when it is longer or was cut before (cut). The cut
// prefers the end of a tag; tags left open are closed by the reader's
// HTML parser as at the end of any document.
func capHTML(s string, limit int, cut bool) string {
	if !cut && len(s) <= limit {
		return s
	}
	marker := "\n<p>" + cutMarker(limit) + "</p>"
	return s[:cutAt(s, limit-len(marker), '>')] + marker
}

// bodies returns the text and the sanitised HTML bodies of env, each at
// most limit bytes, and a defect when HTML could not be converted to text.
// cut says which bodies the view parsed was cut in (textcut.go). It leaves
// env.Text and env.HTML clipped to limit, for classify and attachments.
//
// enmime's own conversion of HTML to text is off (parser): it would read
// all of the HTML; it is done here on what is kept, with the same
// function, under the same condition (no text part, or an empty one).
func bodies(env *enmime.Envelope, cs string, limit int, cut viewCuts) (text, html, defect string) {
	var htmlCut, textCut bool
	env.HTML, htmlCut = clip(env.HTML, limit)
	htmlCut = htmlCut || cut.html
	if env.Text == "" && env.HTML != "" {
		t, err := html2text.FromString(env.HTML)
		if err != nil {
			t, defect = "", "[E] "+enmime.ErrorPlainTextFromHTML+": Failed to downconvert HTML: "+err.Error()
		}
		env.Text, textCut = t, htmlCut
	}
	var c bool
	env.Text, c = clip(env.Text, textWork*limit)
	textCut = textCut || c || cut.text
	text = capText(cleanText(joinText(env.Text, untypedText(env, cs))), limit, textCut)
	if env.HTML != "" {
		html = capHTML(strings.ToValidUTF8(htmlPolicy.Sanitize(env.HTML), "\uFFFD"), limit, htmlCut)
	}
	return text, html, defect
}
