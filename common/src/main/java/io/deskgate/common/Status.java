package io.deskgate.common;

/**
 * Every error a client can see, with the HTTP status, WebSocket close code and stream protocol code
 * that carry it. One enum so that the same failure reads the same on every leg.
 */
public enum Status {
    OK(200, 1000, 0),
    BAD_REQUEST(400, 4400, 1),
    UNAUTHORIZED(401, 4401, 2),
    FORBIDDEN(403, 4403, 3),
    NOT_FOUND(404, 4404, 4),
    TOO_LARGE(413, 1009, 5),
    PROTOCOL_ERROR(400, 1002, 6),
    NO_DESKTOP_AVAILABLE(503, 4503, 7),
    UPSTREAM_UNAVAILABLE(502, 4502, 8),
    SESSION_ENDED(410, 4410, 9),
    INTERNAL_ERROR(500, 1011, 10),
    /** The user already holds the most desktops one user may hold at once. */
    DESKTOP_LIMIT_REACHED(409, 4409, 11),
    /** A name that must be unique (a tenant, a user within a tenant, a pool within a tenant) is taken. */
    ALREADY_EXISTS(409, 4409, 12);

    private final int httpStatus;
    private final int wsCloseCode;
    private final int protocolCode;

    Status(int httpStatus, int wsCloseCode, int protocolCode) {
        this.httpStatus = httpStatus;
        this.wsCloseCode = wsCloseCode;
        this.protocolCode = protocolCode;
    }

    public int httpStatus() { return httpStatus; }

    public int wsCloseCode() { return wsCloseCode; }

    public int protocolCode() { return protocolCode; }

    public static Status fromProtocolCode(int code) {
        for (Status s : values()) {
            if (s.protocolCode == code) return s;
        }
        return INTERNAL_ERROR;
    }
}
