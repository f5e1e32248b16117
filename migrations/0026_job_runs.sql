-- 0026_job_runs.sql - when each periodic job last started, shared by every
-- instance on the database.
--
-- Each instance's maintenance thread wakes on its own timer. The advisory
-- lock in server/db/maintenance.c stops two runs overlapping, but three
-- instances started at different times would still run the job three times
-- per period. An instance claims a period by moving last_started_at forward
-- in one statement (the row lock serialises the claims); an instance whose
-- claim updates no row skips the run. runs counts the claimed runs: the
-- evidence that the job runs once per period, not once per instance.
CREATE TABLE job_runs (
    job             text PRIMARY KEY CHECK (job ~ '^[a-z_.]{1,40}$'),
    last_started_at timestamptz NOT NULL,
    runs            bigint NOT NULL DEFAULT 1 CHECK (runs > 0)
);
