package message

// Where a recovered panic happened, as ParseOptions.Panicked names it. Each
// names one recover that turns a panic into an error or a fallback, so that
// the caller goes on: a count that moves is a bug to find in the logs. The
// values, the where of postdesk_panics_total, name the package and the
// step where the recover is. The pre-scan, which runs before parsing, has
// its own: prescan.PanicWhere.
const (
	// PanicParse: parsing; Parse returns an error wrapping ErrPanic.
	PanicParse = "message.parse"
	// PanicEnmime: inside enmime; the header-only fallback is tried.
	PanicEnmime = "message.enmime"
	// PanicElide: the splitter of elision; enmime parses the raw bytes.
	PanicElide = "message.elide"
)
