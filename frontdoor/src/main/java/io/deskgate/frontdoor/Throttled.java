package io.deskgate.frontdoor;

import java.time.Duration;

/**
 * A request refused for load rather than for what it asked: HTTP 429 (this client or username tried too
 * often) or 503 (too many logins being checked at once), with how long to wait before retrying.
 * {@link ApiRoutes} answers it with a {@code Retry-After} header. Immutable.
 */
final class Throttled extends RuntimeException {
    static final int TOO_MANY_REQUESTS = 429;
    static final int SERVICE_UNAVAILABLE = 503;

    private final int httpStatus;
    private final String status;
    private final Duration retryAfter;

    private Throttled(int httpStatus, String status, String message, Duration retryAfter) {
        super(message, null, false, false);
        this.httpStatus = httpStatus;
        this.status = status;
        this.retryAfter = retryAfter;
    }

    static Throttled tooManyAttempts(Duration retryAfter) {
        return new Throttled(TOO_MANY_REQUESTS, "TOO_MANY_REQUESTS", "too many failed logins; try again later",
                retryAfter);
    }

    static Throttled busy(Duration retryAfter) {
        return new Throttled(SERVICE_UNAVAILABLE, "BUSY", "too many logins at once; try again shortly", retryAfter);
    }

    int httpStatus() { return httpStatus; }

    /** The {@code status} field of the JSON answer. */
    String status() { return status; }

    /** Whole seconds to wait, at least 1 (for the {@code Retry-After} header). */
    long retryAfterSeconds() {
        return Math.max(1, (retryAfter.toMillis() + 999) / 1000);
    }
}
