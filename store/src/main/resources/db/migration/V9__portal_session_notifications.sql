-- Per-frontdoor caches of portal sessions (issue 9, the API's speed): every change that can end a cached login
-- sends a notification on channel deskgate_portal_sessions, from a trigger, so in the same transaction as the
-- change (it is delivered at commit, and never for a rolled-back one). Payloads (docs/architecture.md):
--   's:<portal session id>'  that session changed (revoked): drop it
--   'flush'                  anything may have changed (portal sessions deleted, a user or tenant changed): drop all
-- Frontdoors also send 'ping:<listener id>:<n>' themselves, to learn that they have read everything committed
-- before (notifications are delivered in commit order).
CREATE FUNCTION deskgate_portal_session_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('deskgate_portal_sessions', 's:' || OLD.id::text);
    RETURN NULL;
END
$$;

CREATE TRIGGER portal_sessions_changed AFTER UPDATE ON portal_sessions
    FOR EACH ROW EXECUTE FUNCTION deskgate_portal_session_changed();

-- Deletes (the purge of expired rows, a few hundred at a time) send one 'flush', and none when nothing went.
CREATE FUNCTION deskgate_portal_sessions_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM gone) THEN
        PERFORM pg_notify('deskgate_portal_sessions', 'flush');
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER portal_sessions_deleted AFTER DELETE ON portal_sessions REFERENCING OLD TABLE AS gone
    FOR EACH STATEMENT EXECUTE FUNCTION deskgate_portal_sessions_deleted();

-- A cached login holds its user's row and its tenant's name: any change to either drops every cached login.
CREATE FUNCTION deskgate_portal_logins_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('deskgate_portal_sessions', 'flush');
    RETURN NULL;
END
$$;

CREATE TRIGGER users_changed AFTER UPDATE OR DELETE ON users
    FOR EACH STATEMENT EXECUTE FUNCTION deskgate_portal_logins_changed();

CREATE TRIGGER tenants_changed AFTER UPDATE OR DELETE ON tenants
    FOR EACH STATEMENT EXECUTE FUNCTION deskgate_portal_logins_changed();
