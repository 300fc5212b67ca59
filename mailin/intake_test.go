package mailin

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
)

// TestPrepareHashesRawAndKeptFiles checks the digests Prepare hands the
// desk: the raw message's and each kept file's, and none for a file whose
// data was dropped over the keep limit.
func TestPrepareHashesRawAndKeptFiles(t *testing.T) {
	hexSum := func(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }
	raw := []byte("From: a@b.example\r\nSubject: files\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n" +
		"--b\r\nContent-Type: application/octet-stream; name=small.bin\r\nContent-Transfer-Encoding: base64\r\n\r\naGVsbG8gd29ybGQ=\r\n" +
		"--b\r\nContent-Type: application/octet-stream; name=big.bin\r\n\r\n" + strings.Repeat("x", 300) + "\r\n" +
		"--b--\r\n")
	it := &Intake{AttachmentBytes: 100}
	p := it.Prepare(raw, Source{})
	if p.msg == nil {
		t.Fatalf("not parsed: %s", p.quarantine)
	}
	if got, want := p.msg.RawSHA256, hexSum(raw); got != want {
		t.Errorf("RawSHA256 = %s, want %s", got, want)
	}
	if len(p.msg.Attachments) != 2 {
		t.Fatalf("got %d attachments, want 2", len(p.msg.Attachments))
	}
	small, big := p.msg.Attachments[0], p.msg.Attachments[1]
	if want := hexSum([]byte("hello world")); small.SHA256 != want {
		t.Errorf("small file SHA256 = %q, want %s", small.SHA256, want)
	}
	if big.Size <= int64(len(big.Data)) {
		t.Fatalf("big file kept %d bytes of %d over a keep limit of 100", len(big.Data), big.Size)
	}
	if big.SHA256 != "" {
		t.Errorf("dropped file got SHA256 %q", big.SHA256)
	}
}
