CREATE TABLE tenants.tenants (
    tenant_id uuid PRIMARY KEY,
    slug text NOT NULL,
    display_name text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT tenants_slug_key UNIQUE (slug),
    CONSTRAINT tenants_slug_format CHECK (slug ~ '^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$'),
    CONSTRAINT tenants_display_name_length CHECK (char_length(display_name) BETWEEN 1 AND 200)
);
