-- The login throttle: one row per key and window instead of one row per failure.
-- An attempt is counted (reserved) before the password is checked, by one upsert on this
-- row; the key is the SHA-256 of 'email:<tenant>:<email>' or 'address:<ip>', so a row stays
-- small whatever a caller sends. The cleanup schedule deletes rows whose window has passed.
DROP TABLE auth.login_failures;

CREATE TABLE auth.login_throttles (
    key_hash bytea PRIMARY KEY CONSTRAINT login_throttles_key_hash_size CHECK (octet_length(key_hash) = 32),
    window_started_at timestamptz NOT NULL,
    attempts integer NOT NULL CONSTRAINT login_throttles_attempts_range CHECK (attempts >= 0)
);
CREATE INDEX login_throttles_window_idx ON auth.login_throttles (window_started_at);
