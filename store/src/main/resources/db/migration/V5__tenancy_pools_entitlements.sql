-- Tenancy (issue 8 item 7): tenants can be added, pools hold the desktops of named agents (or of agents
-- carrying a label), and entitlements say which user of a tenant may use which pool of that same tenant.
-- Every key that names a user or a pool includes the tenant, and the foreign keys compare (tenant, id), so a
-- row can never tie a user of one tenant to a pool of another.

CREATE SEQUENCE tenants_id_seq OWNED BY tenants.id;
SELECT setval('tenants_id_seq', (SELECT COALESCE(MAX(id), 1) FROM tenants));
ALTER TABLE tenants ALTER COLUMN id SET DEFAULT nextval('tenants_id_seq');

ALTER TABLE users ADD CONSTRAINT users_tenant_id_id UNIQUE (tenant_id, id);

CREATE TABLE pools (
    id              bigserial PRIMARY KEY,
    tenant_id       integer NOT NULL REFERENCES tenants (id),
    name            text NOT NULL,
    agents          text[] NOT NULL DEFAULT '{}',  -- agent ids whose desktops the pool holds
    labels          text[] NOT NULL DEFAULT '{}',  -- or agents carrying any of these labels
    assignment      text NOT NULL CHECK (assignment IN ('persistent', 'floating')),
    reset_on_logout boolean NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, name),
    UNIQUE (tenant_id, id)
);

CREATE TABLE entitlements (
    tenant_id  integer NOT NULL,
    user_id    bigint NOT NULL,
    pool_id    bigint NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, user_id, pool_id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, pool_id) REFERENCES pools (tenant_id, id) ON DELETE CASCADE
);

CREATE INDEX entitlements_by_pool ON entitlements (tenant_id, pool_id);

-- A removed user's sessions go with it (the audit trail keeps what happened).
ALTER TABLE sessions DROP CONSTRAINT sessions_user_id_fkey;
ALTER TABLE sessions ADD CONSTRAINT sessions_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE;
