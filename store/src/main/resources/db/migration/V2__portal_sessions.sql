-- Portal (login) sessions: the login cookie names one; logout revokes it on the server, so a copied
-- cookie stops working at once. Shared by every frontdoor. Rows past expires_at are purged.
CREATE TABLE portal_sessions (
    id         uuid PRIMARY KEY,
    tenant_id  integer NOT NULL REFERENCES tenants (id),
    username   text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz
);

CREATE INDEX portal_sessions_expires_at ON portal_sessions (expires_at);
