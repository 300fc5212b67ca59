package message

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"net/mail"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/cention-sany/utf7"
	"github.com/emersion/go-message/charset"
	"github.com/gogs/chardet"
	"golang.org/x/text/encoding"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// maxFilenameBytes is the longest name SafeFilename returns (the common
// file system limit).
const maxFilenameBytes = 255

// maxKeptExtension is the longest extension (with its dot) that survives
// shortening a long name.
const maxKeptExtension = 16

// SafeFilename returns a name safe to store and show: base name only (strip
// any directory part with / or \), control characters (incl. NUL, DEL, C1)
// and bidi/format characters (U+200E U+200F U+202A–U+202E U+2066–U+2069,
// U+FEFF, U+200B–U+200D) removed, Unicode NFC, leading dots and surrounding
// white space trimmed, at most 255 bytes (cut on a rune boundary, keeping the
// extension when it is short), and never "", "." or "..": those become a
// name derived from contentType ("image.png", "document.html",
// "message.eml", "attachment.pdf"; "attachment.bin" for a type without a
// known extension, "file" when there is no type).
//
// Invalid UTF-8 bytes become "_". Every Unicode format character (category
// Cf, which holds all the bidi controls listed above) and the line and
// paragraph separators are removed, not only the listed ones: none of them
// belongs in a file name. SafeFilename is idempotent.
func SafeFilename(name, contentType string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.ToValidUTF8(name, "_")
	name = strings.Map(func(r rune) rune {
		if unsafeFilenameRune(r) {
			return -1
		}
		return r
	}, name)
	name = norm.NFC.String(name)
	name = trimFilename(name)
	if len(name) > maxFilenameBytes {
		name = trimFilename(shortenFilename(name, maxFilenameBytes))
	}
	if name == "" {
		return fallbackFilename(contentType)
	}
	return name
}

// unsafeFilenameRune reports whether r must not appear in a file name:
// controls (C0, DEL, C1), format characters such as the bidi overrides
// (U+202E "RTLO" turns "invoice\u202Egpj.exe" into what looks like a .jpg)
// and line or paragraph separators.
func unsafeFilenameRune(r rune) bool {
	switch {
	case unicode.IsControl(r), unicode.Is(unicode.Cf, r):
		return true
	case r == '\u2028', r == '\u2029':
		return true
	case r >= '\u200B' && r <= '\u200F', r >= '\u202A' && r <= '\u202E',
		r >= '\u2066' && r <= '\u2069', r == '\uFEFF':
		return true
	}
	return false
}

// trimFilename trims surrounding white space and leading dots (hidden files,
// "." and "..") until neither is left.
func trimFilename(name string) string {
	for {
		t := strings.TrimLeft(strings.TrimSpace(name), ".")
		if t == name {
			return t
		}
		name = t
	}
}

// shortenFilename cuts name to at most limit bytes on a rune boundary,
// keeping a short extension.
func shortenFilename(name string, limit int) string {
	ext := ""
	if i := strings.LastIndexByte(name, '.'); i > 0 && len(name)-i <= maxKeptExtension {
		ext = name[i:]
		name = name[:i]
	}
	return cutRunes(name, limit-len(ext)) + ext
}

// cutRunes returns the longest prefix of s that is at most limit bytes and
// ends on a rune boundary.
func cutRunes(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	if limit <= 0 {
		return ""
	}
	for limit > 0 && !utf8.RuneStart(s[limit]) {
		limit--
	}
	return s[:limit]
}

// typeExtensions maps the media types mail commonly carries to a file
// extension. It is fixed here rather than read from the system's mime.types
// so that names do not depend on the machine.
var typeExtensions = map[string]string{
	"image/png":                        ".png",
	"image/jpeg":                       ".jpg",
	"image/jpg":                        ".jpg",
	"image/pjpeg":                      ".jpg",
	"image/gif":                        ".gif",
	"image/webp":                       ".webp",
	"image/bmp":                        ".bmp",
	"image/tiff":                       ".tif",
	"image/svg+xml":                    ".svg",
	"image/heic":                       ".heic",
	"text/plain":                       ".txt",
	"text/html":                        ".html",
	"text/csv":                         ".csv",
	"text/calendar":                    ".ics",
	"text/xml":                         ".xml",
	"text/rfc822-headers":              ".txt",
	"application/xml":                  ".xml",
	"application/json":                 ".json",
	"application/pdf":                  ".pdf",
	"application/zip":                  ".zip",
	"application/gzip":                 ".gz",
	"application/x-gzip":               ".gz",
	"application/ms-tnef":              ".dat",
	"application/vnd.ms-tnef":          ".dat",
	"application/msword":               ".doc",
	"application/vnd.ms-excel":         ".xls",
	"application/pgp-signature":        ".asc",
	"application/pkcs7-signature":      ".p7s",
	"application/x-pkcs7-signature":    ".p7s",
	"message/rfc822":                   ".eml",
	"message/global":                   ".eml",
	"message/delivery-status":          ".txt",
	"message/disposition-notification": ".txt",
	"message/feedback-report":          ".txt",
	"video/quicktime":                  ".mov",
	"video/mp4":                        ".mp4",
	"audio/mpeg":                       ".mp3",
	"audio/wav":                        ".wav",
	"audio/x-wav":                      ".wav",
}

// fallbackFilename derives a name for a part without a usable one from its
// media type: "image.png", "document.html", "message.eml",
// "attachment.bin"; "file" when the type is empty.
func fallbackFilename(contentType string) string {
	ct := strings.ToLower(strings.TrimSpace(contentType))
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = strings.TrimSpace(ct[:i])
	}
	if ct == "" {
		return "file"
	}
	ext, ok := typeExtensions[ct]
	if !ok {
		ext = ".bin"
	}
	major, _, _ := strings.Cut(ct, "/")
	switch {
	case major == "image", major == "video", major == "audio":
		return major + ext
	case major == "message":
		return "message" + ext
	case major == "text":
		return "document" + ext
	}
	return "attachment" + ext
}

// address is one mailbox of an address field: decoded display name and
// addr-spec.
type address struct {
	Name    string
	Address string
}

// wordDecoder decodes RFC 2047 encoded-words in every charset go-message
// knows, plus UTF-7.
var wordDecoder = &mime.WordDecoder{CharsetReader: charsetReader}

// charsetReader converts from the named charset to UTF-8. It never fails:
// an unknown charset passes the bytes through, and they are made valid
// UTF-8 later, so one bad label does not lose the whole field.
func charsetReader(label string, r io.Reader) (io.Reader, error) {
	if enc := lookupCharset(label); enc != nil {
		return transform.NewReader(r, enc.NewDecoder()), nil
	}
	if cr, err := charset.Reader(label, r); err == nil {
		return cr, nil
	}
	return r, nil
}

// lookupCharset returns the encodings go-message/charset lacks; nil
// otherwise.
func lookupCharset(label string) encoding.Encoding {
	switch strings.ToLower(strings.TrimSpace(label)) {
	case "utf-7", "utf7", "unicode-1-1-utf-7":
		return utf7.UTF7
	}
	return nil
}

// decodeCharset converts s from the named charset; ok is false when the
// charset is unknown, the conversion fails or produced replacement
// characters (a sign of the wrong guess).
func decodeCharset(label, s string) (string, bool) {
	var r io.Reader
	if enc := lookupCharset(label); enc != nil {
		r = transform.NewReader(strings.NewReader(s), enc.NewDecoder())
	} else if cr, err := charset.Reader(label, strings.NewReader(s)); err == nil {
		r = cr
	} else {
		return "", false
	}
	b, err := io.ReadAll(r)
	if err != nil || !utf8.Valid(b) || bytes.ContainsRune(b, utf8.RuneError) {
		return "", false
	}
	return string(b), true
}

// encodedWord matches an RFC 2047 encoded-word, leniently: any text up to
// "?=", so that broken base64 padding can be repaired.
var encodedWord = regexp.MustCompile(`=\?([^?\s]+)\?([BbQq])\?([^?]*)\?=`)

// spaceBetweenWords matches the white space between two encoded-words,
// which is not part of the text (RFC 2047 §6.2).
var spaceBetweenWords = regexp.MustCompile(`\?=[ \t\r\n]+=\?`)

// decodeWords decodes the RFC 2047 encoded-words of an unstructured field
// (or a display name). mime.WordDecoder goes first; words it leaves alone
// (bad padding such as "=?gb18030?B?suLK1A===?=", spaces inside Q text) are
// then decoded leniently. A word that still cannot be decoded stays as it
// is.
func decodeWords(s string) string {
	if !strings.Contains(s, "=?") {
		return s
	}
	if d, err := wordDecoder.DecodeHeader(s); err == nil {
		s = d
	}
	if !encodedWord.MatchString(s) {
		return s
	}
	s = spaceBetweenWords.ReplaceAllStringFunc(s, func(string) string { return "?==?" })
	return encodedWord.ReplaceAllStringFunc(s, func(w string) string {
		m := encodedWord.FindStringSubmatch(w)
		raw, ok := decodeWordText(m[2], m[3])
		if !ok {
			return w
		}
		label, _, _ := strings.Cut(m[1], "*") // RFC 2231 §5 language suffix
		r, _ := charsetReader(label, bytes.NewReader(raw))
		out, err := io.ReadAll(r)
		if err != nil {
			return w
		}
		return string(out)
	})
}

// decodeWordText decodes the text of an encoded-word: base64 with any
// padding and stray characters, or Q (RFC 2047 §4.2).
func decodeWordText(enc, text string) ([]byte, bool) {
	if enc == "B" || enc == "b" {
		clean := strings.Map(func(r rune) rune {
			if r < 0x80 && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '+' || r == '/') {
				return r
			}
			return -1
		}, text)
		if len(clean)%4 == 1 {
			clean = clean[:len(clean)-1]
		}
		b, err := base64.RawStdEncoding.DecodeString(clean)
		return b, err == nil
	}
	var out []byte
	for i := 0; i < len(text); i++ {
		switch c := text[i]; {
		case c == '_':
			out = append(out, ' ')
		case c == '=' && i+2 < len(text) && isHex(text[i+1]) && isHex(text[i+2]):
			out = append(out, unhex(text[i+1])<<4|unhex(text[i+2]))
			i += 2
		default:
			out = append(out, c)
		}
	}
	return out, true
}

// isHex reports whether c is a hexadecimal digit.
func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// unhex returns the value of the hexadecimal digit c.
func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}

// decode8bit turns a raw header value (or untyped body text) into UTF-8.
// RFC 5322 fields are ASCII (RFC 6532 allows UTF-8), but old mailers send
// raw ISO-2022-JP, or bytes in the charset of the body or some other:
// guessCharsets says which to try.
func decode8bit(s, cs string) string {
	if strings.Contains(s, "\x1b") {
		if d, ok := decodeCharset("iso-2022-jp", s); ok {
			return d
		}
	}
	if utf8.ValidString(s) {
		return s
	}
	for _, label := range guessCharsets(s, cs) {
		if d, ok := decodeCharset(label, s); ok {
			return d
		}
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

// detectCharset is chardet's best guess for b. Among equal confidences the
// alphabetically first charset wins, so the same bytes always decode the
// same way: chardet's own DetectBest keeps whichever of its concurrent
// recognizers answered first.
func detectCharset(b []byte) (chardet.Result, bool) {
	all, err := chardet.NewTextDetector().DetectAll(b)
	if err != nil || len(all) == 0 {
		return chardet.Result{}, false
	}
	best := all[0]
	for _, r := range all[1:] {
		if r.Confidence > best.Confidence || r.Confidence == best.Confidence && r.Charset < best.Charset {
			best = r
		}
	}
	return best, true
}

// guessCharsets lists the charsets to try, in order, for raw 8-bit bytes s
// in a message whose text is declared as cs: a charset detected with high
// confidence (raw GB2312 in a mail whose wrapper says ISO-8859-1), the
// declared one and its relatives, one detected with fair confidence (raw
// KOI8-R in a mail that declares nothing), and last Windows-1252, which
// maps every byte to some character.
func guessCharsets(s, cs string) []string {
	var sure, fair string
	if r, ok := detectCharset([]byte(s)); ok {
		switch {
		case r.Confidence >= 90:
			sure = r.Charset
		case r.Confidence >= 50:
			fair = r.Charset
		}
	}
	cs = strings.ToLower(strings.TrimSpace(cs))
	var out []string
	if sure != "" {
		out = append(out, sure)
	}
	if cs != "" && cs != "utf-8" && cs != "utf8" && cs != "us-ascii" {
		out = append(out, cs)
	}
	switch cs {
	case "iso-2022-jp", "shift_jis", "shift-jis", "sjis", "cp932", "windows-31j", "euc-jp":
		out = append(out, "shift_jis", "euc-jp")
	case "gb2312", "gbk", "gb18030", "hz-gb-2312":
		out = append(out, "gb18030")
	case "big5", "big5-hkscs":
		out = append(out, "big5")
	case "euc-kr", "ks_c_5601-1987", "iso-2022-kr":
		out = append(out, "euc-kr")
	}
	if fair != "" {
		out = append(out, fair)
	}
	return append(out, "windows-1252")
}

// addrSpecPattern finds something that looks like local@domain in a field
// net/mail cannot parse. The local part may be quoted.
var addrSpecPattern = regexp.MustCompile(`("[^"]*"|[^\s<>(),;:"\[\]@]+)@[^\s<>(),;:"\[\]@]+`)

// parseAddressList parses an address field (From, To, Cc, Reply-To).
// ok is false when the field did not parse as RFC 5322 and the addresses
// were extracted tolerantly: list by list element, an <angle-addr> or
// anything that looks like local@domain.
//
// Encoded-words are decoded in display names only. An encoded-word inside
// the addr-spec is forbidden (RFC 2047 §5) and is kept as literal text, as
// net/mail does: decoding it would let "=?utf-8?Q?agent?=@example.com"
// pose as agent@example.com (corpus zammad/mail117, mail118), and the
// literal text is what the sending server accepted as the reverse path.
func parseAddressList(raw, cs string) (addrs []address, ok bool) {
	raw = decode8bit(raw, cs)
	if strings.TrimSpace(raw) == "" {
		return nil, true
	}
	ap := mail.AddressParser{WordDecoder: wordDecoder}
	if list, err := ap.ParseList(raw); err == nil {
		for _, a := range list {
			addrs = appendAddress(addrs, a.Name, quoteLocal(a.Address))
		}
		return addrs, true
	}
	for _, piece := range splitAddressList(raw) {
		if a, err := ap.Parse(piece); err == nil {
			addrs = appendAddress(addrs, a.Name, quoteLocal(a.Address))
			continue
		}
		addrs = append(addrs, looseAddresses(piece)...)
	}
	return addrs, false
}

// quoteLocal puts back the quotes net/mail removed from a local part that
// needs them (`"john doe"@example.com`), so that the addr-spec can be used
// to answer.
func quoteLocal(addr string) string {
	s := (&mail.Address{Address: addr}).String()
	if strings.HasPrefix(s, "<") && strings.HasSuffix(s, ">") {
		return s[1 : len(s)-1]
	}
	return addr
}

// appendAddress appends one cleaned address; an empty addr-spec is dropped.
func appendAddress(addrs []address, name, addr string) []address {
	addr = normalizeAddress(addr)
	if addr == "" {
		return addrs
	}
	return append(addrs, address{Name: cleanLine(name), Address: addr})
}

// splitAddressList splits a field on the commas that are outside quoted
// strings, comments and angle brackets.
func splitAddressList(s string) []string {
	var out []string
	var quoted bool
	var depth, angle, start int
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && (quoted || depth > 0):
			i++
		case c == '"' && depth == 0:
			quoted = !quoted
		case quoted:
		case c == '(':
			depth++
		case c == ')' && depth > 0:
			depth--
		case depth > 0:
		case c == '<':
			angle++
		case c == '>' && angle > 0:
			angle--
		case c == ',' && angle == 0:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// looseAddresses extracts addresses from a list element that does not
// parse: the <angle-addr> (white space inside it removed) with the text in
// front as display name, else every bare local@domain, else a lone word
// such as "MAILER-DAEMON (Mail Delivery System)" (a local part without
// domain, which some MTAs write).
func looseAddresses(piece string) []address {
	var addrs []address
	bare := spaceAroundDots.ReplaceAllString(stripComments(piece), "$1")
	if i := strings.IndexByte(bare, '<'); i >= 0 {
		if j := strings.IndexByte(bare[i:], '>'); j > 0 {
			inner := strings.Join(strings.Fields(bare[i+1:i+j]), "")
			if k := strings.LastIndexByte(inner, ':'); k >= 0 && strings.HasPrefix(inner, "@") {
				inner = inner[k+1:] // obsolete source route (RFC 5322 §4.4)
			}
			if strings.Contains(inner, "@") {
				name := strings.Trim(strings.TrimSpace(bare[:i]), `"`)
				return appendAddress(addrs, decodeWords(name), inner)
			}
		}
	}
	for _, m := range addrSpecPattern.FindAllString(bare, -1) {
		addrs = appendAddress(addrs, "", m)
	}
	if len(addrs) == 0 {
		if m := loneWordPattern.FindStringSubmatch(piece); m != nil {
			addrs = appendAddress(addrs, strings.TrimSpace(m[2]), m[1])
		}
	}
	return addrs
}

// spaceAroundDots matches the white space obsolete syntax allows around
// the dots and the @ of an addr-spec ("jdoe@test . example").
var spaceAroundDots = regexp.MustCompile(`[ \t]*([.@])[ \t]*`)

// loneWordPattern matches a field holding a single word of atext, with an
// optional comment: a local part without a domain.
var loneWordPattern = regexp.MustCompile(`^\s*<?([A-Za-z0-9!#$%&'*+/=?^_{|}~.-]+)>?\s*(?:\(([^()]*)\))?\s*$`)

// stripComments removes RFC 5322 comments (nested parentheses) outside
// quoted strings.
func stripComments(s string) string {
	if !strings.Contains(s, "(") {
		return s
	}
	var b strings.Builder
	var quoted bool
	depth := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s) && (quoted || depth > 0):
			if depth == 0 {
				b.WriteByte(c)
				b.WriteByte(s[i+1])
			}
			i++
			continue
		case c == '"' && depth == 0:
			quoted = !quoted
		case c == '(' && !quoted:
			depth++
			continue
		case c == ')' && depth > 0:
			depth--
			continue
		}
		if depth == 0 {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// normalizeAddress trims an addr-spec, drops control characters and
// lower-cases its domain; the local part is kept as written (RFC 5321
// §2.4: only the receiving host may interpret its case).
func normalizeAddress(a string) string {
	a = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, strings.ToValidUTF8(a, ""))
	a = strings.TrimSpace(strings.Trim(strings.TrimSpace(a), "<>"))
	if i := strings.LastIndexByte(a, '@'); i >= 0 {
		a = a[:i+1] + strings.ToLower(a[i+1:])
	}
	return a
}

// addrSpecs returns the addr-specs of addrs.
func addrSpecs(addrs []address) []string {
	if len(addrs) == 0 {
		return nil
	}
	out := make([]string, len(addrs))
	for i, a := range addrs {
		out[i] = a.Address
	}
	return out
}
