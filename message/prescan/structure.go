package prescan

import (
	"bufio"
	"net/textproto"
	"strings"

	"github.com/jhillyerd/enmime/v2"
	"github.com/jhillyerd/enmime/v2/mediatype"
)

// How enmime reads the structure of a mail. Check follows it, and so does
// message's splitter, which cuts large parts out before enmime parses: the
// rule lives here once, so that the two cannot drift apart; both are
// tested against enmime.

// EnmimeOptions are how message.Parse configures enmime: it keeps going on
// every defect it can repair (a malformed child part is skipped and
// reported instead of failing the message, partial content of a damaged
// part is kept), and reads a multipart without a boundary as a single
// part. The structure enmime builds so is what Check must cover; message
// converts and caps text itself.
func EnmimeOptions() []enmime.Option {
	return []enmime.Option{
		enmime.SkipMalformedParts(true),
		enmime.MultipartWOBoundaryAsSinglePart(true),
		enmime.StripMediaTypeInvalidCharacters(true),
		enmime.SetReadPartErrorPolicy(func(*enmime.Part, error) bool { return true }),
		enmime.DisableCharacterDetection(true),
		enmime.DisableTextConversion(true),
	}
}

// ReadHeader reads an entity's header section as enmime does
// (enmime.ReadHeader), dropping the defects it reports.
func ReadHeader(br *bufio.Reader) (textproto.MIMEHeader, error) {
	return enmime.ReadHeader(br, noDefects{})
}

// noDefects drops the defects enmime.ReadHeader reports.
type noDefects struct{}

func (noDefects) AddError(string, string, ...any)   {}
func (noDefects) AddWarning(string, string, ...any) {}

// IsContainer reports whether enmime parses an entity as a multipart: a
// message when its type is multipart/* with a boundary (ReadParts, with
// MultipartWOBoundaryAsSinglePart), a body part whenever it has a boundary
// and is not text/plain or text/html, whatever its type (parseParts).
func IsContainer(mtype, boundary string, root bool) bool {
	if boundary == "" {
		return false
	}
	if root {
		return strings.HasPrefix(mtype, "multipart/")
	}
	return mtype != "text/plain" && mtype != "text/html"
}

// ParseType parses a Content-Type (or Content-Disposition) value with
// enmime's options, as enmime reads it.
func ParseType(v string) (mtype string, params map[string]string, invalid []string, err error) {
	return mediatype.ParseWithOptions(v, mediatype.ParseOptions{StripMediaTypeInvalidCharacters: true})
}

// IsMessagePart reports whether the media type ct is an attached message
// (message/rfc822 or message/global), which enmime parses as a mail of
// its own.
func IsMessagePart(ct string) bool {
	ct = strings.ToLower(ct)
	return ct == "message/rfc822" || ct == "message/global"
}
