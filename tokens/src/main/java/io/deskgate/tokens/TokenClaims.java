package io.deskgate.tokens;

import java.time.Instant;

/**
 * What a signed token says.
 *
 * @param kind      what the token is for: {@link #LOGIN} (a browser's login session at the frontdoor)
 *                  or {@link #STREAM} (the right to attach to one session's stream at a gateway)
 * @param subject   the user name
 * @param tenant    the tenant the token is bound to
 * @param sessionId the session (unique socket) a STREAM token is for; empty for LOGIN tokens
 * @param expiresAt when the token stops being accepted
 */
public record TokenClaims(String kind, String subject, int tenant, String sessionId, Instant expiresAt) {
    public static final String LOGIN = "login";
    public static final String STREAM = "stream";

    public TokenClaims {
        if (!kind.matches("[a-z]{1,16}")) throw new IllegalArgumentException("bad token kind");
        if (subject.contains("|") || sessionId.contains("|")) throw new IllegalArgumentException("'|' in token field");
    }
}
