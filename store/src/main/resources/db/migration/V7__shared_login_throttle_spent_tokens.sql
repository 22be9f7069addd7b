-- Active-active frontdoors and gateways (issue 9 item 5): what each of them decides with lives here, so that
-- any number of them on one store decide alike.
--
-- Login throttling: one row per throttled key (scope 'address': a client address; scope 'user': a tenant/user
-- name key). The transitions are those of the frontdoor's pure LoginThrottle, applied under a row lock by
-- login_reserve, so that concurrent attempts at every frontdoor cannot outrun a limit. A row whose window has
-- passed and whose blocks are forgiven (forget_at) holds nothing a fresh row would not: it is pruned.
CREATE TABLE login_throttle (
    scope         text NOT NULL CHECK (scope IN ('address', 'user')),
    key           text NOT NULL,
    window_start  timestamptz NOT NULL,
    failures      integer NOT NULL,
    blocked_until timestamptz NOT NULL,  -- '-infinity' when never blocked
    blocks        integer NOT NULL,      -- blocks so far (each one doubles the next)
    forget_at     timestamptz NOT NULL,  -- from then on the row equals a fresh one
    PRIMARY KEY (scope, key)
);

CREATE INDEX login_throttle_forget_at ON login_throttle (forget_at);

-- The last few addresses each user logged in from successfully: exempt from the user name's block.
CREATE TABLE login_known_addresses (
    user_key        text NOT NULL,
    address         text NOT NULL,
    last_success_at timestamptz NOT NULL,
    PRIMARY KEY (user_key, address)
);

-- Counts one failure of a locked row (LoginThrottle.failure): blocks are forgiven after a quiet max block, the
-- window restarts when it has passed, and max failures in a window block for base * 2^blocks (at most max).
CREATE FUNCTION login_throttle_fail(r login_throttle, p_now timestamptz, p_max_failures integer,
                                    p_window interval, p_base interval, p_max interval)
    RETURNS login_throttle LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    d interval := p_base;
    i integer := 0;
BEGIN
    IF r.blocks > 0 AND p_now >= r.blocked_until + p_max THEN r.blocks := 0; END IF;
    IF p_now >= r.window_start + p_window THEN
        r.window_start := p_now;
        r.failures := 0;
    END IF;
    r.failures := r.failures + 1;
    IF r.failures >= p_max_failures THEN
        WHILE i < r.blocks AND d < p_max LOOP
            d := d * 2;
            i := i + 1;
        END LOOP;
        IF d > p_max THEN d := p_max; END IF;
        r.blocked_until := p_now + d;
        r.blocks := r.blocks + 1;
        r.failures := 0;
        r.window_start := p_now;
    END IF;
    r.forget_at := greatest(r.window_start + p_window, r.blocked_until + p_max);
    RETURN r;
END $$;

-- Reserves one login attempt of p_user from p_address before its password is checked (LoginAttempts.reserve):
-- refused (wait_until set) while the address is blocked, or the user name is blocked and the address is not one
-- of the user's known ones; else counted as a failure of both (of the address only, for a known address) until
-- login_succeeded. A refused attempt counts nowhere. A block seen without a lock is refused at once (a block
-- ends only by time, or for the user name by login_succeeded, so the refusal was right when read): a flood of
-- refused attempts costs reads, not a queue on one row. Otherwise it locks the address row, then the user row:
-- one order for every caller, so concurrent reservations never deadlock.
CREATE FUNCTION login_reserve(p_user text, p_address text, p_now timestamptz,
                              u_max integer, u_window_ms bigint, u_base_ms bigint, u_max_ms bigint,
                              a_max integer, a_window_ms bigint, a_base_ms bigint, a_max_ms bigint,
                              OUT wait_until timestamptz, OUT address_blocked boolean)
    LANGUAGE plpgsql AS $$
DECLARE
    ms constant interval := interval '1 millisecond';
    a login_throttle;
    u login_throttle;
    known boolean;
    seen timestamptz;
BEGIN
    address_blocked := false;
    SELECT blocked_until INTO seen FROM login_throttle WHERE scope = 'address' AND key = p_address;
    IF FOUND AND p_now < seen THEN
        wait_until := seen;
        address_blocked := true;
        RETURN;
    END IF;
    known := EXISTS (SELECT 1 FROM login_known_addresses WHERE user_key = p_user AND address = p_address);
    IF NOT known THEN
        SELECT blocked_until INTO seen FROM login_throttle WHERE scope = 'user' AND key = p_user;
        IF FOUND AND p_now < seen THEN
            wait_until := seen;
            RETURN;
        END IF;
    END IF;
    INSERT INTO login_throttle VALUES ('address', p_address, p_now, 0, '-infinity', 0, p_now)
        ON CONFLICT DO NOTHING;
    SELECT * INTO a FROM login_throttle WHERE scope = 'address' AND key = p_address FOR UPDATE;
    IF p_now < a.blocked_until THEN
        wait_until := a.blocked_until;
        address_blocked := true;
        RETURN;
    END IF;
    known := EXISTS (SELECT 1 FROM login_known_addresses WHERE user_key = p_user AND address = p_address);
    IF NOT known THEN
        INSERT INTO login_throttle VALUES ('user', p_user, p_now, 0, '-infinity', 0, p_now) ON CONFLICT DO NOTHING;
        SELECT * INTO u FROM login_throttle WHERE scope = 'user' AND key = p_user FOR UPDATE;
        IF p_now < u.blocked_until THEN
            wait_until := u.blocked_until;
            RETURN;
        END IF;
        u := login_throttle_fail(u, p_now, u_max, u_window_ms * ms, u_base_ms * ms, u_max_ms * ms);
        UPDATE login_throttle SET window_start = u.window_start, failures = u.failures, blocked_until = u.blocked_until,
                                  blocks = u.blocks, forget_at = u.forget_at
            WHERE scope = 'user' AND key = p_user;
    END IF;
    a := login_throttle_fail(a, p_now, a_max, a_window_ms * ms, a_base_ms * ms, a_max_ms * ms);
    UPDATE login_throttle SET window_start = a.window_start, failures = a.failures, blocked_until = a.blocked_until,
                              blocks = a.blocks, forget_at = a.forget_at
        WHERE scope = 'address' AND key = p_address;
END $$;

-- The reserved attempt succeeded (LoginAttempts.succeeded): forgets the user name's failures and blocks, and
-- remembers p_address as one of the user's last p_keep good addresses.
CREATE FUNCTION login_succeeded(p_user text, p_address text, p_now timestamptz, p_keep integer)
    RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM login_throttle WHERE scope = 'user' AND key = p_user;
    INSERT INTO login_known_addresses VALUES (p_user, p_address, p_now)
        ON CONFLICT (user_key, address) DO UPDATE SET last_success_at = greatest(login_known_addresses.last_success_at,
                                                                                  EXCLUDED.last_success_at);
    DELETE FROM login_known_addresses WHERE user_key = p_user AND address NOT IN (
        SELECT address FROM login_known_addresses WHERE user_key = p_user
            ORDER BY last_success_at DESC, (address = p_address) DESC LIMIT p_keep);
END $$;

-- Spent STREAM tokens, by the token's signed nonce id: the primary key makes a token single-use across every
-- gateway (the second insert, anywhere, finds the row). Kept until the token expires (an expired token is
-- refused by its signature check anyway), then pruned.
CREATE TABLE spent_stream_tokens (
    token_id   text PRIMARY KEY,
    expires_at timestamptz NOT NULL,
    spent_at   timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX spent_stream_tokens_expires_at ON spent_stream_tokens (expires_at);
