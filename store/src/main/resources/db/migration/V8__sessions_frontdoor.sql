-- Which frontdoor launched each session (issue 9): `deskgate status` counts a frontdoor's active sessions, so an
-- operator sees where sessions were launched (and which frontdoor a test may kill). '' for a session launched
-- before this column existed, or by a frontdoor started without a registry id.
ALTER TABLE sessions ADD COLUMN frontdoor_id text NOT NULL DEFAULT '';
