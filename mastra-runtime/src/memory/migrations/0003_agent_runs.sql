-- Agent runs kept while a tool call waits for approval. Times are milliseconds since the Unix
-- epoch. `status` and `version` are columns so a run can be listed and claimed in one
-- conditional UPDATE; `seq` keeps creation order (BIGSERIAL in PostgreSQL).
CREATE TABLE mastra_agent_runs (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    agent_id    TEXT NOT NULL,
    run_id      TEXT NOT NULL,
    resource_id TEXT,
    thread_id   TEXT,
    status      TEXT NOT NULL,
    snapshot    TEXT NOT NULL,
    version     INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    UNIQUE (agent_id, run_id)
);

CREATE INDEX mastra_agent_runs_by_agent ON mastra_agent_runs (agent_id, status, created_at);
