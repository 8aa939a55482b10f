-- Threads and their messages (Mastra's memory). Times are milliseconds since the Unix epoch.
CREATE TABLE mastra_threads (
    id          TEXT PRIMARY KEY NOT NULL,
    resource_id TEXT NOT NULL,
    title       TEXT,
    metadata    TEXT,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

CREATE INDEX mastra_threads_by_resource ON mastra_threads (resource_id, created_at);

-- `seq` keeps insertion order for messages written in the same millisecond.
CREATE TABLE mastra_messages (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    id          TEXT NOT NULL UNIQUE,
    thread_id   TEXT NOT NULL REFERENCES mastra_threads (id) ON DELETE CASCADE,
    resource_id TEXT,
    role        TEXT NOT NULL,
    content     TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE INDEX mastra_messages_by_thread ON mastra_messages (thread_id, created_at, seq);
