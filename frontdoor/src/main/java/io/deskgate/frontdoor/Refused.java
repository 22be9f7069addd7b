package io.deskgate.frontdoor;

import java.time.Duration;
import java.util.Optional;

/**
 * A request refused before it is handled, for what it is rather than what it asks: a state-changing call
 * without a JSON content type (415) or from a foreign origin (403), or any API call while the store is
 * down (503, with {@code Retry-After}). {@link ApiRoutes} answers it as JSON. Expected, so it carries no
 * stack trace. Immutable.
 */
final class Refused extends RuntimeException {
    private final int httpStatus;
    private final String status;
    private final Optional<Duration> retryAfter;

    private Refused(int httpStatus, String status, String message, Optional<Duration> retryAfter) {
        super(message, null, false, false);
        this.httpStatus = httpStatus;
        this.status = status;
        this.retryAfter = retryAfter;
    }

    static Refused notJson() {
        return new Refused(415, "UNSUPPORTED_MEDIA_TYPE", "state-changing calls must send Content-Type: application/json",
                Optional.empty());
    }

    static Refused foreignOrigin() {
        return new Refused(403, "FORBIDDEN", "cross-origin request refused", Optional.empty());
    }

    static Refused storeDown(Duration retryAfter) {
        return new Refused(503, "STORE_UNAVAILABLE", "the store is unavailable; try again shortly", Optional.of(retryAfter));
    }

    int httpStatus() { return httpStatus; }

    /** The {@code status} field of the JSON answer. */
    String status() { return status; }

    /** Whole seconds to wait, at least 1, when the answer should carry {@code Retry-After}. */
    Optional<Long> retryAfterSeconds() {
        return retryAfter.map(d -> Math.max(1, (d.toMillis() + 999) / 1000));
    }
}
