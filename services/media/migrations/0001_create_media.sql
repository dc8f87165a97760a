-- The audio lives here, in bytea, beside its job: every replica of the media service and every
-- media worker already reaches this database, at most 25 MiB a file is well within what
-- PostgreSQL stores out of line (TOAST), and deleting the job deletes its audio in the same
-- statement. Object storage would be one more service to run and to keep consistent, for no
-- gain at this size.
CREATE TABLE media.transcription_jobs (
    transcription_job_id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL,
    submitted_by uuid NOT NULL,
    idempotency_key text,
    status text NOT NULL DEFAULT 'QUEUED',
    language text NOT NULL,
    media_type text NOT NULL,
    audio bytea NOT NULL,
    duration_seconds double precision NOT NULL DEFAULT 0,
    progress double precision NOT NULL DEFAULT 0,
    transcript jsonb,
    failure_reason text,
    failure_message text,
    created_at timestamptz NOT NULL DEFAULT now(),
    started_at timestamptz,
    finished_at timestamptz,
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT transcription_jobs_idempotency_key UNIQUE (tenant_id, idempotency_key),
    CONSTRAINT transcription_jobs_status CHECK (status IN ('QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED')),
    CONSTRAINT transcription_jobs_progress CHECK (progress BETWEEN 0 AND 1)
);
-- WAV is barely compressible and FLAC not at all: store it out of line without trying.
ALTER TABLE media.transcription_jobs ALTER COLUMN audio SET STORAGE EXTERNAL;
-- A tenant's list, newest first, optionally by status.
CREATE INDEX transcription_jobs_tenant ON media.transcription_jobs (tenant_id, transcription_job_id);
