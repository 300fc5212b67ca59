package message

// ParseOptions are the limits and hooks of ParseWith; the zero value is
// what Parse does.
type ParseOptions struct {
	// AttachmentBytes is the largest file whose data a parsed message
	// holds; 0 = no limit. A larger file keeps only its decoded size
	// (desk.Attachment.Size, with nil Data); a big base64 file over it is
	// counted while it is decoded, never held whole.
	AttachmentBytes int64
	// TextBytes caps the decoded text and HTML bodies kept; 0 =
	// DefaultTextBytes, values under 1 KiB count as 1 KiB. A longer body
	// is cut at a character boundary and ends with a line saying so
	// (textcap.go); the raw bytes keep everything.
	TextBytes int64
	// Panicked, when set, is told of each panic recovered while parsing
	// (PanicParse, PanicEnmime, PanicElide); nil tells nobody. It is called
	// on the parsing goroutine.
	Panicked func(where string)
}

// ParseWith is Parse with the limits and hooks of o.
func ParseWith(raw []byte, o ParseOptions) (*Message, error) {
	m, _, err := parse(raw, parseOptions{keep: o.AttachmentBytes, textBytes: textLimit(o.TextBytes), panicked: o.Panicked})
	return m, err
}
