// Package mailin is the intake transports: the IMAP loop (IDLE, poll
// fallback, reconnect, streaming fetch, size gate, parsing pipeline, MOVE
// after commit, RFC 6851), .eml files and stdin (ReadFiles), and the
// Intake that joins them to the desk: Prepare (size gate, then
// prescan.Check and message.ParseWith, which do all the MIME work) and
// Record (the desk's decision in one transaction, or a quarantine of the
// raw bytes).
package mailin
