-- The registry of every running role instance (issue 8): each registers itself and heartbeats with its
-- true load; the others discover it here. Liveness is judged by the database's clock (now()), never by a
-- machine's own. The gateways-only table of V3 held rows the frontdoor's probe wrote; those are not
-- carried over: every instance re-registers within one heartbeat interval.
DROP TABLE registry;

CREATE TABLE registry (
    role         text NOT NULL CHECK (role IN ('frontdoor', 'broker', 'concentrator', 'agent', 'engine', 'gateway')),
    id           text NOT NULL,
    incarnation  uuid NOT NULL,                        -- one per start: tells a restart from a duplicate id
    addresses    jsonb NOT NULL DEFAULT '{}'::jsonb,   -- named endpoints: grpc=host:port, ws=wss://..., udp=host:port
    capacity     integer NOT NULL CHECK (capacity >= 1),
    load         integer NOT NULL DEFAULT 0 CHECK (load >= 0),
    version      text NOT NULL,
    labels       jsonb NOT NULL DEFAULT '{}'::jsonb,   -- e.g. a concentrator's set
    started_at   timestamptz NOT NULL DEFAULT now(),
    heartbeat_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (role, id)
);
