-- Threads and their messages (Mastra's memory), PostgreSQL: the same columns as SQLite's
-- migration 0001. Times are milliseconds since the Unix epoch; JSON is kept as the text storage
-- checked and wrote (not jsonb, which would reorder keys and refuse rows SQLite keeps), so both
-- stores read back the same values and find the same rows unreadable.
CREATE TABLE mastra_threads (
    id          TEXT PRIMARY KEY NOT NULL,
    resource_id TEXT NOT NULL,
    title       TEXT,
    metadata    TEXT,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE INDEX mastra_threads_by_resource ON mastra_threads (resource_id, created_at);

-- `seq`, assigned by the database at insert, is the messages' order: every instance sharing
-- the database reads one total order, whatever its clock says.
CREATE TABLE mastra_messages (
    seq         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    thread_id   TEXT NOT NULL REFERENCES mastra_threads (id) ON DELETE CASCADE,
    resource_id TEXT,
    role        TEXT NOT NULL,
    content     TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE INDEX mastra_messages_by_thread ON mastra_messages (thread_id, seq);
