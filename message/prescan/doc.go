// Package prescan refuses mail too complex to parse before the parser sees
// it: nesting too deep, too many parts, header sections or lines too long,
// too many body bytes (Check, Limits, ErrTooComplex, LimitError). It reads
// the raw message once, as a stream, keeping a few KiB per nesting level
// and never a copy of a part, and reads the structure the way enmime will,
// so that the limits bound the work of message.Parse.
//
// It also says where a message starts (SkipPrefix), so that message.Parse
// reads the same one. It imports no postdesk package; message and mailin
// import it.
package prescan
