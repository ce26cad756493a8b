-- Failed sign-ins, for the brute-force limits (src/db/sign_ins.rs): in the database, so the
-- limits hold across every instance and a restart. An attempt is written before its password
-- is checked and deleted with the username's others when a sign-in succeeds; rows older than
-- the window are deleted every ten minutes.
CREATE TABLE sign_in_attempts (
    id        bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username  text,
    address   inet,
    at        timestamptz NOT NULL DEFAULT now(),
    -- Username::PATTERN: a name that is not a username can never sign in, so only the address counts.
    CONSTRAINT sign_in_attempts_username_format CHECK (username ~ '^[a-z0-9][a-z0-9._-]{2,63}$')
);
CREATE INDEX sign_in_attempts_username_at ON sign_in_attempts (username, at) WHERE username IS NOT NULL;
CREATE INDEX sign_in_attempts_address_at ON sign_in_attempts (address, at) WHERE address IS NOT NULL;
CREATE INDEX sign_in_attempts_at ON sign_in_attempts (at);

COMMENT ON TABLE sign_in_attempts IS
    'Sign-ins that failed (or are being checked) within the brute-force window: SIGN_IN_FAILURES_PER_USERNAME and SIGN_IN_FAILURES_PER_ADDRESS limit them.';
COMMENT ON COLUMN sign_in_attempts.username IS 'The username tried, lower-cased; NULL when what was sent cannot be a username.';
COMMENT ON COLUMN sign_in_attempts.address IS 'The client address (an IPv6 client by its /64); NULL when unknown.';
COMMENT ON COLUMN sign_in_attempts.at IS 'When the attempt was made.';
