-- Agent runs kept while a tool call waits for approval, PostgreSQL: the same columns as
-- SQLite's migration 0003. `status` and `version` are columns so a run can be listed and
-- claimed in one conditional UPDATE; `seq` keeps creation order.
CREATE TABLE mastra_agent_runs (
    seq         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    agent_id    TEXT NOT NULL,
    run_id      TEXT NOT NULL,
    resource_id TEXT,
    thread_id   TEXT,
    status      TEXT NOT NULL,
    snapshot    TEXT NOT NULL,
    version     BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    UNIQUE (agent_id, run_id)
);

CREATE INDEX mastra_agent_runs_by_agent ON mastra_agent_runs (agent_id, status, created_at);
