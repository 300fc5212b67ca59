package store

import (
	"context"
	"database/sql"
	"fmt"
)

// Large blobs (raw messages, attachments) are written and read in chunks
// (migration 5). go-sqlite3 binds a []byte with SQLITE_TRANSIENT, so SQLite
// copies every blob parameter, then builds the row around it: a 25 MiB mail
// bound whole cost 50 MB of C memory on top of its Go buffer. In chunks, no
// statement holds more than blobChunkBytes.

const (
	// rawInlineBytes is the largest blob kept in its own row (most mails):
	// one insert, as before, and small enough that rewriting the row
	// (recording a raw message's outcome) costs little.
	rawInlineBytes = 64 << 10
	// blobChunkBytes is the size of the chunks of a larger blob.
	blobChunkBytes = 1 << 20
)

// inline is what goes in a blob's own row: b itself when it is small, else
// nothing (and its chunks go in their table).
func inline(b []byte) []byte {
	if len(b) <= rawInlineBytes {
		return b
	}
	return []byte{}
}

// chunkTable names the table holding the chunks of one kind of blob and
// the queries that write and read them; the key is the id of the raw
// message or the digest of the attachment.
type chunkTable struct {
	insert, read string
}

var (
	rawChunks = chunkTable{
		insert: "INSERT INTO raw_chunks (raw_id, seq, bytes) VALUES (?, ?, ?)",
		read:   "SELECT bytes FROM raw_chunks WHERE raw_id = ? ORDER BY seq",
	}
	attachmentChunks = chunkTable{
		insert: "INSERT INTO attachment_chunks (sha256, seq, bytes) VALUES (?, ?, ?)",
		read:   "SELECT bytes FROM attachment_chunks WHERE sha256 = ? ORDER BY seq",
	}
)

// writeChunks stores b in chunks under key, unless it was kept inline.
func (tx *Tx) writeChunks(t chunkTable, key any, b []byte) error {
	if len(b) <= rawInlineBytes {
		return nil
	}
	for seq := 0; len(b) > 0; seq++ {
		n := min(len(b), blobChunkBytes)
		if _, err := tx.tx.ExecContext(tx.ctx, t.insert, key, seq, b[:n]); err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

// readChunks returns a blob of size bytes whose own row held inline:
// inline itself when it is all there, else its chunks put together.
func readChunks(ctx context.Context, q querier, t chunkTable, key any, size int64, inline []byte) ([]byte, error) {
	if int64(len(inline)) == size {
		return inline, nil
	}
	if len(inline) != 0 {
		return nil, fmt.Errorf("%d bytes in the row, %d expected", len(inline), size)
	}
	rows, err := q.QueryContext(ctx, t.read, key)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make([]byte, 0, size)
	for rows.Next() {
		var chunk sql.RawBytes
		if err := rows.Scan(&chunk); err != nil {
			return nil, err
		}
		if int64(len(out)+len(chunk)) > size {
			return nil, fmt.Errorf("chunks longer than the %d bytes expected", size)
		}
		out = append(out, chunk...)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if int64(len(out)) != size {
		return nil, fmt.Errorf("%d of %d bytes in chunks", len(out), size)
	}
	return out, nil
}
