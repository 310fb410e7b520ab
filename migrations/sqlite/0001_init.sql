-- egov-intake schema, SQLite. Timestamps are RFC 3339 UTC text (fixed width,
-- so text order is time order). Never edit a landed migration: add one.

-- IMAP sync state per mailbox (DESIGN §5).
CREATE TABLE mailbox_sync (
    mailbox       TEXT PRIMARY KEY,
    uidvalidity   INTEGER NOT NULL,
    last_uid      INTEGER NOT NULL,
    last_seen_at  TEXT
);

-- Yearly case number sequence: AGE-YYYY-NNNNN.
CREATE TABLE case_sequence (
    year  INTEGER PRIMARY KEY,
    last  INTEGER NOT NULL
);

CREATE TABLE "case" (
    id           INTEGER PRIMARY KEY,
    number       TEXT NOT NULL UNIQUE,
    service      TEXT NOT NULL,           -- mpass | msign | unknown
    stage        TEXT NOT NULL,
    status       TEXT NOT NULL,           -- waiting_for_age | waiting_for_beneficiary | closed | rejected
    institution  TEXT,
    idno         TEXT,
    system_name  TEXT,
    language     TEXT,                    -- ro | ru | en, NULL when unknown
    subject      TEXT NOT NULL,
    opened_by    TEXT,
    mailbox      TEXT NOT NULL,
    assigned_to  TEXT,
    priority     TEXT NOT NULL DEFAULT 'normal',
    labels       TEXT NOT NULL DEFAULT '[]',   -- JSON array, from triage rules
    facts        TEXT NOT NULL DEFAULT '{}',   -- JSON: what the case's mail said so far (request fields, certificate, signed agreement)
    missing      TEXT NOT NULL DEFAULT '[]',   -- JSON array of field names the current step still needs
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);

-- Who wrote to or was answered on a case; subject-tag threading trusts only them.
CREATE TABLE case_participant (
    case_id  INTEGER NOT NULL REFERENCES "case"(id),
    address  TEXT NOT NULL,
    PRIMARY KEY (case_id, address)
);

-- One row per distinct mail (same content hash = same mail).
CREATE TABLE message (
    id            INTEGER PRIMARY KEY,
    case_id       INTEGER REFERENCES "case"(id),
    message_id    TEXT,
    content_hash  TEXT NOT NULL UNIQUE,
    from_addr     TEXT,
    subject       TEXT NOT NULL,
    sent_date     TEXT,
    in_reply_to   TEXT,
    refs          TEXT,                   -- JSON array
    flags         TEXT NOT NULL,          -- JSON array
    environment   TEXT,                   -- test | production, when the mail says
    size          INTEGER NOT NULL,
    raw           BLOB,                   -- NULL when it held a private key
    status        TEXT NOT NULL,          -- recorded | quarantined
    quarantine_reason TEXT,
    spool_path    TEXT,
    received_at   TEXT NOT NULL
);
CREATE INDEX message_by_message_id ON message(message_id);
CREATE INDEX message_by_case ON message(case_id);

-- Every time a mail reached a mailbox; the key that makes re-processing idempotent.
CREATE TABLE delivery (
    mailbox      TEXT NOT NULL,
    source_key   TEXT NOT NULL,           -- imap:<uidvalidity>:<uid> | maildir:<unique name>
    message_id   INTEGER NOT NULL REFERENCES message(id),
    disposition  TEXT NOT NULL,           -- processed | quarantine
    received_at  TEXT NOT NULL,
    PRIMARY KEY (mailbox, source_key)
);

CREATE TABLE attachment (
    id            INTEGER PRIMARY KEY,
    message_id    INTEGER NOT NULL REFERENCES message(id),
    location      TEXT NOT NULL,
    name          TEXT,
    content_type  TEXT NOT NULL,
    size          INTEGER NOT NULL,
    sha256        TEXT NOT NULL,
    kind          TEXT NOT NULL,
    cert_sha256   TEXT,                   -- SHA-256 of the certificate (DER), when it is one
    verdict       TEXT,                   -- problem codes, space-separated
    details       TEXT                    -- JSON: the inspection report (never key material)
);
CREATE INDEX attachment_by_message ON attachment(message_id);
CREATE INDEX attachment_by_certificate ON attachment(cert_sha256);

-- Append-only audit trail. Events of mail that opened no case (robots,
-- quarantined mail) carry only the message.
CREATE TABLE case_event (
    id          INTEGER PRIMARY KEY,
    case_id     INTEGER REFERENCES "case"(id),
    message_id  INTEGER REFERENCES message(id),
    at          TEXT NOT NULL,
    actor       TEXT NOT NULL,
    kind        TEXT NOT NULL,
    detail      TEXT NOT NULL             -- JSON
);
CREATE INDEX case_event_by_case ON case_event(case_id, id);
CREATE INDEX case_event_by_message ON case_event(message_id);

-- What a case waits for, and by when: answer (AGE, working days), examination
-- (AGE, calendar days, extendable once), followup (the beneficiary).
CREATE TABLE deadline (
    id          INTEGER PRIMARY KEY,
    case_id     INTEGER NOT NULL REFERENCES "case"(id),
    kind        TEXT NOT NULL,
    due         TEXT NOT NULL,            -- date, Europe/Chisinau
    met_at      TEXT,
    cancelled_at TEXT,
    extended    INTEGER NOT NULL DEFAULT 0,
    reminders   INTEGER NOT NULL DEFAULT 0,  -- follow-ups sent to the beneficiary
    created_at  TEXT NOT NULL,
    UNIQUE (case_id, kind)
);
CREATE INDEX deadline_open ON deadline(met_at, cancelled_at, due);

-- Transactional outbox: one row per mail to send.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    key             TEXT NOT NULL UNIQUE,
    kind            TEXT NOT NULL,        -- reply | alert
    case_id         INTEGER REFERENCES "case"(id),
    in_message      INTEGER REFERENCES message(id),
    from_name       TEXT NOT NULL,
    from_addr       TEXT NOT NULL,
    to_addr         TEXT NOT NULL,
    subject         TEXT NOT NULL,
    message_id      TEXT NOT NULL UNIQUE,
    in_reply_to     TEXT,
    refs            TEXT NOT NULL,        -- JSON array
    languages       TEXT NOT NULL,        -- JSON array
    body            TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_error      TEXT,
    sent_at         TEXT,
    failed_at       TEXT
);
CREATE INDEX outbox_due ON outbox(sent_at, failed_at, next_attempt_at);
CREATE INDEX outbox_by_recipient ON outbox(to_addr, kind, created_at);
