package io.deskgate.common;

/** A failure with a {@link Status} that a client may see. The message must never contain a secret. */
public class DeskgateException extends RuntimeException {
    private final Status status;

    public DeskgateException(Status status, String message) {
        super(message);
        this.status = status;
    }

    public DeskgateException(Status status, String message, Throwable cause) {
        super(message, cause);
        this.status = status;
    }

    public Status status() { return status; }
}
