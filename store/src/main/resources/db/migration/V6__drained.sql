-- Drained role instances (issue 9, seed 000): `deskgate drain engine|gateway <id>` stops new sessions going
-- there; the sessions it serves keep running. Kept apart from `registry`, whose row is replaced at every
-- registration and deleted when the instance is gone: a drain outlives a restart of the instance and is
-- lifted only by `deskgate undrain`.
CREATE TABLE drained (
    role       text NOT NULL CHECK (role IN ('engine', 'gateway')),
    id         text NOT NULL,
    drained_by text NOT NULL,
    since      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (role, id)
);
