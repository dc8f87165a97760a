-- Single sign-on through a tenant's OIDC connectors.

-- Who a provider's subject is in the tenant: one row per (connector, issuer, subject).
CREATE TABLE auth.external_identities (
    auth_connector_id uuid NOT NULL REFERENCES auth.auth_connectors ON DELETE CASCADE,
    issuer text NOT NULL,
    subject text NOT NULL,
    tenant_user_id uuid NOT NULL REFERENCES auth.tenant_users ON DELETE CASCADE,
    created_at timestamptz NOT NULL,
    CONSTRAINT external_identities_pkey PRIMARY KEY (auth_connector_id, issuer, subject)
);
CREATE INDEX external_identities_user_idx ON auth.external_identities (tenant_user_id);

-- A login in flight: single use, bound to the browser by the SHA-256 of its pre-login cookie.
CREATE TABLE auth.oidc_login_states (
    state text PRIMARY KEY,
    pre_login_hash bytea NOT NULL,
    auth_connector_id uuid NOT NULL REFERENCES auth.auth_connectors ON DELETE CASCADE,
    nonce text NOT NULL,
    code_verifier text NOT NULL,
    return_to text NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX oidc_login_states_expiry_idx ON auth.oidc_login_states (expires_at);
