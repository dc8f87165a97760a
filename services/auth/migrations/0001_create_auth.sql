-- Tenants live in the tenants service; tenant_id here is its ID, checked over gRPC, never joined.

CREATE TABLE auth.tenant_users (
    tenant_user_id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL,
    email text NOT NULL,
    display_name text NOT NULL,
    role text NOT NULL CONSTRAINT tenant_users_role CHECK (role IN ('admin', 'member')),
    password_hash text,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_login_at timestamptz
);
-- One account per email and tenant, whatever the case of the email.
CREATE UNIQUE INDEX tenant_users_email_key ON auth.tenant_users (tenant_id, lower(email));
CREATE INDEX tenant_users_tenant_idx ON auth.tenant_users (tenant_id, tenant_user_id);

CREATE TABLE auth.auth_connectors (
    auth_connector_id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL,
    name text NOT NULL,
    kind text NOT NULL CONSTRAINT auth_connectors_kind CHECK (kind IN ('password', 'oidc')),
    enabled boolean NOT NULL DEFAULT true,
    -- Typed by kind: {"min_length": n} or {"issuer", "client_id", "client_secret"}.
    config jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT auth_connectors_name_key UNIQUE (tenant_id, name)
);
CREATE INDEX auth_connectors_tenant_idx ON auth.auth_connectors (tenant_id, auth_connector_id);

CREATE TABLE auth.sessions (
    session_id uuid PRIMARY KEY,
    tenant_id uuid NOT NULL,
    tenant_user_id uuid NOT NULL REFERENCES auth.tenant_users ON DELETE CASCADE,
    -- SHA-256 of the token; the token itself is never stored.
    token_hash bytea NOT NULL CONSTRAINT sessions_token_hash_key UNIQUE,
    user_agent text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz
);
CREATE INDEX sessions_user_idx ON auth.sessions (tenant_user_id, session_id);
CREATE INDEX sessions_expires_idx ON auth.sessions (expires_at);

-- Failed logins, counted per (tenant, email) and per client address within a window.
CREATE TABLE auth.login_failures (
    throttle_key text NOT NULL,
    failed_at timestamptz NOT NULL
);
CREATE INDEX login_failures_key_idx ON auth.login_failures (throttle_key, failed_at);
