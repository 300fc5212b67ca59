package store

import (
	"context"
	"database/sql"
	"errors"

	"github.com/mattn/go-sqlite3"
)

// Temporary reports whether err is a condition of the database that passes
// by itself (busy or locked by another writer, a full disk, an I/O error, a
// closed handle), as opposed to a problem with the data being written.
func Temporary(err error) bool {
	var e sqlite3.Error
	if errors.As(err, &e) {
		switch e.Code {
		case sqlite3.ErrBusy, sqlite3.ErrLocked, sqlite3.ErrIoErr, sqlite3.ErrFull, sqlite3.ErrCantOpen,
			sqlite3.ErrReadonly, sqlite3.ErrNomem, sqlite3.ErrProtocol:
			return true
		}
	}
	return errors.Is(err, sql.ErrConnDone) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrBusy)
}
