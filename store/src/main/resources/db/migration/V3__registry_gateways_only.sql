-- The registry holds what is read: the gateways the frontdoor picks from, with the heartbeat of its
-- reachability probe. Engine rows were written and never read, and load was always 0, so neither is
-- kept; the next issue's registry (heartbeats from the roles themselves) brings true load back.
DELETE FROM registry WHERE kind <> 'gateway';
ALTER TABLE registry DROP COLUMN load;
