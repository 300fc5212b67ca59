package mailin

import (
	"errors"
	"slices"
	"testing"

	"github.com/emersion/go-imap/v2"
)

func TestMoveWithoutMOVE(t *testing.T) {
	rev1 := imap.CapSet{imap.CapIMAP4rev1: {}}
	rev1UIDPlus := imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapUIDPlus: {}}
	both := []string{"a@acme.example", "b@acme.example"}
	tests := []struct {
		name   string
		server serverConfig
		// handled is what each PollOnce in turn returns.
		handled          []int
		inbox, processed []string
		inboxSeen        bool // every message left in INBOX is \Seen
	}{{
		name:      "UIDPLUS: copy, \\Deleted and UID EXPUNGE empty INBOX",
		server:    serverConfig{caps: rev1UIDPlus},
		handled:   []int{2, 0},
		processed: both,
	}, {
		name:      "no UIDPLUS: handled mail is copied and left \\Seen, and not taken again",
		server:    serverConfig{caps: rev1},
		handled:   []int{2, 0},
		inbox:     both,
		inboxSeen: true,
		processed: both,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testContext(t)
			s := startServer(t, tt.server)
			s.appendMail(t, "INBOX", testMail(both[0], "one", "x"), testMail(both[1], "two", "y"))
			d := newRecordingDesk()
			p := newTestPoller(t, s.addr, d, 0, nil)
			for i, want := range tt.handled {
				n, err := p.PollOnce(ctx)
				if err != nil || n != want {
					t.Fatalf("poll %d = %d, %v; want %d, nil", i+1, n, err, want)
				}
			}
			checkEqual(t, "desk got", d.ids(), both)
			inbox := s.folder(t, "INBOX")
			checkEqual(t, "INBOX", s.ids(t, "INBOX"), tt.inbox)
			for _, m := range inbox {
				if m.seen != tt.inboxSeen || slices.Contains(m.flags, imap.FlagDeleted) {
					t.Errorf("INBOX message %s has flags %v", m.id, m.flags)
				}
			}
			checkEqual(t, "Processed", s.ids(t, "Processed"), tt.processed)
		})
	}
}

func TestMoveRefusedLeavesMessageInPlace(t *testing.T) {
	tests := []struct {
		name string
		caps imap.CapSet
	}{
		{"UID MOVE refused", nil},
		{"UID COPY refused on a server without MOVE", imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapUIDPlus: {}}},
		{"UID COPY refused on a server without MOVE or UIDPLUS", imap.CapSet{imap.CapIMAP4rev1: {}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testContext(t)
			s := startServer(t, serverConfig{caps: tt.caps, failCopy: "Processed"})
			s.appendMail(t, "INBOX", testMail("a@acme.example", "one", "x"))
			p := newTestPoller(t, s.addr, newRecordingDesk(), 0, nil)
			n, err := p.PollOnce(ctx)
			var imapErr *imap.Error
			if !errors.As(err, &imapErr) || imapErr.Code != imap.ResponseCodeCannot || n != 0 {
				t.Fatalf("PollOnce = %d, %v; want 0 and the server's NO [CANNOT]", n, err)
			}
			inbox := s.folder(t, "INBOX")
			if len(inbox) != 1 || inbox[0].id != "a@acme.example" || len(inbox[0].flags) != 0 {
				t.Errorf("INBOX = %+v, want a@acme.example without flags", inbox)
			}
			checkEqual(t, "Processed", s.ids(t, "Processed"), nil)
		})
	}
}

func TestMoveRecreatesDeletedFolder(t *testing.T) {
	ctx := testContext(t)
	s := startServer(t, serverConfig{})
	p := newTestPoller(t, s.addr, newRecordingDesk(), 0, nil)
	if _, err := p.PollOnce(ctx); err != nil { // connects and creates the folders
		t.Fatal(err)
	}
	if err := s.client(t).Delete("Processed").Wait(); err != nil {
		t.Fatal(err)
	}
	s.appendMail(t, "INBOX", testMail("a@acme.example", "one", "x"))
	if n, err := p.PollOnce(ctx); err != nil || n != 1 {
		t.Fatalf("PollOnce = %d, %v; want 1, nil", n, err)
	}
	checkEqual(t, "Processed", s.ids(t, "Processed"), []string{"a@acme.example"})
}
