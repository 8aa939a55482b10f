-- Workflow runs: the latest snapshot of each run (Mastra's workflow snapshots). Times are
-- milliseconds since the Unix epoch. `status` repeats the snapshot's status so runs can be
-- filtered and claimed in SQL; `seq` keeps creation order for runs created in the same
-- millisecond (BIGSERIAL in PostgreSQL).
CREATE TABLE mastra_workflow_runs (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    workflow_name TEXT NOT NULL,
    run_id        TEXT NOT NULL,
    resource_id   TEXT,
    status        TEXT NOT NULL,
    snapshot      TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    UNIQUE (workflow_name, run_id)
);

CREATE INDEX mastra_workflow_runs_by_workflow ON mastra_workflow_runs (workflow_name, created_at);
