-- Workflow runs, PostgreSQL: the same columns as SQLite's migration 0002. `seq` keeps creation
-- order for runs created in the same millisecond.
CREATE TABLE mastra_workflow_runs (
    seq           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workflow_name TEXT NOT NULL,
    run_id        TEXT NOT NULL,
    resource_id   TEXT,
    status        TEXT NOT NULL,
    snapshot      TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    UNIQUE (workflow_name, run_id)
);

CREATE INDEX mastra_workflow_runs_by_workflow ON mastra_workflow_runs (workflow_name, created_at);
