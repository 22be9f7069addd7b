-- A cached login also holds its user's entitled pools (issue 9, launch speed: a launch takes the user and the
-- pools from the frontdoor's portal session cache instead of a store read): any change to an entitlement or to a
-- pool drops every cached login, through the same 'flush' notification as a change to a user or a tenant (V9), sent
-- from a trigger in the transaction of the change. Pools are only added by the API today; an update or delete by
-- any other path (a migration, an operator's SQL) is covered too.
CREATE TRIGGER entitlements_changed AFTER INSERT OR UPDATE OR DELETE ON entitlements
    FOR EACH STATEMENT EXECUTE FUNCTION deskgate_portal_logins_changed();

CREATE TRIGGER entitlements_truncated AFTER TRUNCATE ON entitlements
    FOR EACH STATEMENT EXECUTE FUNCTION deskgate_portal_logins_changed();

CREATE TRIGGER pools_changed AFTER UPDATE OR DELETE ON pools
    FOR EACH STATEMENT EXECUTE FUNCTION deskgate_portal_logins_changed();
