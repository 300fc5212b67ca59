package message

// Where a recovered panic happened, as ParseOptions.Panicked names it. Each
// names one recover that turns a panic into an error or a fallback, so that
// the caller goes on: a count that moves is a bug to find in the logs. The
// names are those they had in mailin before this package was split from it,
// kept so that the series of postdesk_panics_total{where} do not change.
// The pre-scan, which runs before parsing, has its own: prescan.PanicWhere.
const (
	// PanicParse: parsing; Parse returns an error wrapping ErrPanic.
	PanicParse = "mailin.parse"
	// PanicEnmime: inside enmime; the header-only fallback is tried.
	PanicEnmime = "mailin.enmime"
	// PanicElide: the splitter of elision; enmime parses the raw bytes.
	PanicElide = "mailin.elide"
)
