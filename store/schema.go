package store

// migrations are applied in order, each in its own transaction, and never
// edited once released: a change to the schema is a new entry at the end.
// PRAGMA user_version holds how many have been applied (soju's scheme).
//
// Times are INTEGER milliseconds since the Unix epoch (UTC); NULL means "not
// yet". Address lists are JSON arrays of strings.
var migrations = []string{
	// 1: the walking skeleton.
	`
CREATE TABLE raw_messages (
	id          INTEGER PRIMARY KEY,
	sha256      TEXT    NOT NULL UNIQUE,
	size        INTEGER NOT NULL,
	bytes       BLOB    NOT NULL,
	received_at INTEGER NOT NULL,
	mailbox     TEXT    NOT NULL DEFAULT '',
	uid         INTEGER NOT NULL DEFAULT 0,
	outcome     TEXT    NOT NULL DEFAULT '',
	reason      TEXT    NOT NULL DEFAULT '',
	case_id     INTEGER
);

CREATE TABLE cases (
	id                 INTEGER PRIMARY KEY,
	subject            TEXT    NOT NULL,
	status             TEXT    NOT NULL CHECK (status IN ('open', 'pending', 'closed')),
	severity           TEXT    NOT NULL,
	type               TEXT    NOT NULL,
	service            TEXT    NOT NULL DEFAULT '',
	category           TEXT    NOT NULL DEFAULT '',
	language           TEXT    NOT NULL DEFAULT 'en',
	plan               TEXT    NOT NULL DEFAULT '',
	requester          TEXT    NOT NULL,
	assignee           TEXT    NOT NULL DEFAULT '',
	created_at         INTEGER NOT NULL,
	updated_at         INTEGER NOT NULL,
	first_response_due INTEGER,
	first_response_at  INTEGER,
	escalated_at       INTEGER,
	pending_at         INTEGER,
	closed_at          INTEGER,
	related_case       INTEGER REFERENCES cases(id)
);
CREATE INDEX cases_status ON cases(status);

CREATE TABLE participants (
	case_id  INTEGER NOT NULL REFERENCES cases(id),
	address  TEXT    NOT NULL,
	role     TEXT    NOT NULL CHECK (role IN ('requester', 'contact', 'agent')),
	added_at INTEGER NOT NULL,
	PRIMARY KEY (case_id, address)
);

CREATE TABLE messages (
	id          INTEGER PRIMARY KEY,
	case_id     INTEGER NOT NULL REFERENCES cases(id),
	raw_id      INTEGER REFERENCES raw_messages(id),
	direction   TEXT    NOT NULL CHECK (direction IN ('in', 'out')),
	kind        TEXT    NOT NULL CHECK (kind IN ('customer', 'agent', 'note', 'held', 'auto')),
	message_id  TEXT    NOT NULL DEFAULT '',
	in_reply_to TEXT    NOT NULL DEFAULT '',
	refs        TEXT    NOT NULL DEFAULT '[]',
	from_addr   TEXT    NOT NULL DEFAULT '',
	to_addrs    TEXT    NOT NULL DEFAULT '[]',
	cc_addrs    TEXT    NOT NULL DEFAULT '[]',
	subject     TEXT    NOT NULL DEFAULT '',
	date        INTEGER,
	text        TEXT    NOT NULL DEFAULT '',
	new_text    TEXT    NOT NULL DEFAULT '',
	html        TEXT    NOT NULL DEFAULT '',
	created_at  INTEGER NOT NULL
);
CREATE INDEX messages_case ON messages(case_id);
CREATE INDEX messages_message_id ON messages(message_id) WHERE message_id != '';

CREATE TABLE attachments (
	sha256 TEXT    PRIMARY KEY,
	size   INTEGER NOT NULL,
	data   BLOB    NOT NULL
);

CREATE TABLE message_attachments (
	message_id   INTEGER NOT NULL REFERENCES messages(id),
	sha256       TEXT    NOT NULL REFERENCES attachments(sha256),
	filename     TEXT    NOT NULL,
	content_type TEXT    NOT NULL,
	size         INTEGER NOT NULL,
	inline       INTEGER NOT NULL DEFAULT 0,
	content_id   TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX message_attachments_message ON message_attachments(message_id);

CREATE TABLE rejected_attachments (
	message_id INTEGER NOT NULL REFERENCES messages(id),
	filename   TEXT    NOT NULL,
	size       INTEGER NOT NULL,
	reason     TEXT    NOT NULL
);
CREATE INDEX rejected_attachments_message ON rejected_attachments(message_id);

CREATE TABLE events (
	id      INTEGER PRIMARY KEY,
	case_id INTEGER NOT NULL REFERENCES cases(id),
	at      INTEGER NOT NULL,
	kind    TEXT    NOT NULL,
	detail  TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX events_case ON events(case_id);

CREATE TABLE outbox (
	id              INTEGER PRIMARY KEY,
	kind            TEXT    NOT NULL,
	case_id         INTEGER REFERENCES cases(id),
	lang            TEXT    NOT NULL DEFAULT 'en',
	to_addrs        TEXT    NOT NULL DEFAULT '[]',
	cc_addrs        TEXT    NOT NULL DEFAULT '[]',
	message_id      TEXT    NOT NULL UNIQUE,
	in_reply_to     TEXT    NOT NULL DEFAULT '',
	refs            TEXT    NOT NULL DEFAULT '[]',
	notice          TEXT    NOT NULL DEFAULT '{}',
	status          TEXT    NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent', 'failed')),
	attempts        INTEGER NOT NULL DEFAULT 0,
	next_attempt_at INTEGER NOT NULL,
	last_error      TEXT    NOT NULL DEFAULT '',
	created_at      INTEGER NOT NULL,
	sent_at         INTEGER,
	raw             BLOB
);
CREATE INDEX outbox_due ON outbox(next_attempt_at) WHERE status = 'queued';
CREATE INDEX outbox_case ON outbox(case_id);

CREATE TABLE mailbox_state (
	mailbox     TEXT    PRIMARY KEY,
	uidvalidity INTEGER NOT NULL,
	last_uid    INTEGER NOT NULL
);
`,
	// 2: satisfaction surveys. Every answer is a row; the latest one counts.
	`
CREATE TABLE surveys (
	id          INTEGER PRIMARY KEY,
	case_id     INTEGER NOT NULL REFERENCES cases(id),
	message_id  INTEGER REFERENCES messages(id),
	rating      INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 5),
	comment     TEXT    NOT NULL DEFAULT '',
	via         TEXT    NOT NULL CHECK (via IN ('mail', 'web')),
	token_hash  TEXT    NOT NULL DEFAULT '',
	answered_at INTEGER NOT NULL
);
CREATE INDEX surveys_case ON surveys(case_id);
`,
	// 3: rate limits and bounces reported on sent mail.
	`
CREATE TABLE rate (
	key          TEXT    NOT NULL,
	window_start INTEGER NOT NULL,
	count        INTEGER NOT NULL,
	PRIMARY KEY (key, window_start)
);
ALTER TABLE outbox ADD COLUMN bounce TEXT NOT NULL DEFAULT '';
`,
	// 4: indexes for the once-a-minute checks, which scanned whole tables.
	`
CREATE INDEX cases_unanswered ON cases(first_response_due)
	WHERE first_response_at IS NULL AND escalated_at IS NULL;
CREATE INDEX rate_window ON rate(window_start);
`,
	// 5: raw messages and attachments over rawInlineBytes are kept in chunks
	// of at most blobChunkBytes, their own rows: raw_messages.bytes and
	// attachments.data are then empty. No statement binds (and SQLite
	// copies) or builds a whole large mail, and recording a raw message's
	// outcome no longer rewrites its bytes. Rows written before keep their
	// bytes in place.
	`
CREATE TABLE raw_chunks (
	raw_id INTEGER NOT NULL REFERENCES raw_messages(id),
	seq    INTEGER NOT NULL,
	bytes  BLOB    NOT NULL,
	PRIMARY KEY (raw_id, seq)
);
CREATE TABLE attachment_chunks (
	sha256 TEXT    NOT NULL REFERENCES attachments(sha256),
	seq    INTEGER NOT NULL,
	bytes  BLOB    NOT NULL,
	PRIMARY KEY (sha256, seq)
);
`,
	// 6: agents work cases by mail (DESIGN §9). A case remembers the
	// requester's display name (shown to agents in notices) and the
	// [[mailbox]] it came in on (whose agents are told of it).
	`
ALTER TABLE cases ADD COLUMN requester_name TEXT NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN mailbox TEXT NOT NULL DEFAULT '';
`,
	// 7: outbox claims have an owner and a lease of their own (DESIGN §10).
	// next_attempt_at stays when the mail is due; claimed_by names the
	// sender working on the row ('' = nobody) and claimed_until ends its
	// claim, so that a restarted sender takes back its own claims at once
	// and another's lapse after a short lease. Rows claimed by a version
	// before this one had next_attempt_at pushed ahead instead, and wait
	// for it once.
	`
ALTER TABLE outbox ADD COLUMN claimed_by TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN claimed_until INTEGER;
`,
}
