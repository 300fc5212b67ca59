// Package message turns one raw mail into a Message: parsing with enmime
// and the fast paths around it (elision of big base64 bodies, text and HTML
// caps), header and charset decoding, safe file names (SafeFilename), and
// the classification of machine mail and bounces (RFC 3834, RFC 3464). It
// reads bytes and returns values: no network, no files, no database.
//
// The streaming pre-scan with limits that its caller runs first, so that
// mail too complex to parse never reaches enmime, is package
// message/prescan (prescan.Check); Parse reads the message from where
// prescan.SkipPrefix says it starts, as the pre-scan does.
//
// Parse and ParseWith never panic on mail from the internet and return an
// error only when nothing usable can be read, so that the caller can
// quarantine the raw bytes; a recovered panic is reported through
// ParseOptions.Panicked (PanicXxx) and wraps ErrPanic.
//
// It imports threading (Message-ID parsing), message/prescan and, for now,
// desk: a Message carries a desk.Inbound, with desk's Attachment, Machine
// and Bounce types, which is the shape the desk receives. It never imports
// mailin, whose transports (IMAP, .eml files) call it.
package message
