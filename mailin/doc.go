// Package mailin fetches inbound mail (IMAP or .eml files), gates and parses
// it, classifies machine mail, and hands it to the desk.
//
// Parse turns raw bytes into a Message (a desk.Inbound plus the defects the
// parser repaired); it never panics on mail from the internet and returns an
// error only when nothing usable can be read, so that the caller can
// quarantine the raw bytes. Classify tells mail written by a person from
// machine mail (loops, bounces, feedback reports, auto-replies, bulk mail,
// robot senders, null reverse paths, RFC 3834 and RFC 3464). ReadFiles reads
// .eml files for `postdesk ingest`.
package mailin
