package mailmix

import (
	"bytes"
	"fmt"
)

// BombHead is the top header of the generated abusive mail, without
// Content-Type.
const BombHead = "From: Mallory <mallory@example.net>\r\n" +
	"To: support@example.com\r\n" +
	"Subject: generated\r\n" +
	"Date: Mon, 02 Jan 2006 15:04:05 +0000\r\n" +
	"Message-ID: <generated@example.net>\r\n" +
	"MIME-Version: 1.0\r\n"

// Nested is a message of depth multiparts, each the only part of the one
// around it, with a text part in the innermost.
func Nested(depth int) []byte {
	var b bytes.Buffer
	b.Grow(depth*80 + 512)
	b.WriteString(BombHead)
	for i := range depth {
		fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=\"b%d\"\r\n\r\n--b%d\r\n", i, i)
	}
	b.WriteString("Content-Type: text/plain\r\n\r\nbottom\r\n")
	for i := depth - 1; i >= 0; i-- {
		fmt.Fprintf(&b, "--b%d--\r\n", i)
	}
	return b.Bytes()
}

// ManyParts is a multipart message of n text parts.
func ManyParts(n int) []byte {
	const part = "--b\r\nContent-Type: text/plain\r\n\r\nx\r\n"
	var b bytes.Buffer
	b.Grow(n*len(part) + 512)
	b.WriteString(BombHead + "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n")
	for range n {
		b.WriteString(part)
	}
	b.WriteString("--b--\r\n")
	return b.Bytes()
}

// LongLine is a text message whose body is one line of n bytes.
func LongLine(n int) []byte {
	head := BombHead + "Content-Type: text/plain\r\n\r\n"
	b := make([]byte, len(head)+n+2)
	copy(b, head)
	line := b[len(head) : len(head)+n]
	for i := range line {
		line[i] = 'a'
	}
	copy(b[len(head)+n:], "\r\n")
	return b
}
