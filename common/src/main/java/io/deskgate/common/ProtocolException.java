package io.deskgate.common;

/** Malformed or oversized bytes from a peer. Closes the one session or connection they came on. */
public final class ProtocolException extends DeskgateException {
    public ProtocolException(String message) {
        super(Status.PROTOCOL_ERROR, message);
    }

    public ProtocolException(Status status, String message) {
        super(status, message);
    }
}
