-- Deskgate system of record (docs: ARCHITECTURE.md "State"). Later versions extend it; never edit a
-- released migration, add V2__... instead.

CREATE TABLE tenants (
    id         integer PRIMARY KEY,
    name       text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now()
);

INSERT INTO tenants (id, name) VALUES (1, 'default');

CREATE TABLE users (
    id            bigserial PRIMARY KEY,
    tenant_id     integer NOT NULL REFERENCES tenants (id),
    username      text NOT NULL,
    password_hash text NOT NULL,           -- Argon2id PHC string
    is_admin      boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, username)
);

-- One row per unique socket (session id).
CREATE TABLE sessions (
    id          uuid PRIMARY KEY,
    tenant_id   integer NOT NULL REFERENCES tenants (id),
    user_id     bigint NOT NULL REFERENCES users (id),
    desktop_id  text NOT NULL,
    engine_id   text NOT NULL,
    gateway_id  text NOT NULL,
    instance_id text NOT NULL,
    state       text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    ended_at    timestamptz
);

CREATE INDEX sessions_active_by_user ON sessions (user_id) WHERE ended_at IS NULL;

-- Engines, gateways, agents and brokers with their load and last heartbeat.
CREATE TABLE registry (
    kind         text NOT NULL CHECK (kind IN ('engine', 'gateway', 'agent', 'broker')),
    id           text NOT NULL,
    endpoint     text NOT NULL,
    extra        jsonb NOT NULL DEFAULT '{}'::jsonb,  -- string fields, e.g. a gateway's wsUrl, udpHost, udpPort
    load         integer NOT NULL DEFAULT 0,
    heartbeat_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (kind, id)
);

CREATE TABLE secrets (
    name       text PRIMARY KEY,
    value      bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE audit (
    id        bigserial PRIMARY KEY,
    at        timestamptz NOT NULL DEFAULT now(),
    tenant_id integer,
    actor     text NOT NULL,
    action    text NOT NULL,
    detail    text NOT NULL DEFAULT ''
);

CREATE INDEX audit_at ON audit (at);
