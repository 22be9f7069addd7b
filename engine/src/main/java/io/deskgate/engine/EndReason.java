package io.deskgate.engine;

import io.deskgate.common.Status;

/**
 * Why a transcoding instance ended: what the browser is told ({@link #status}, {@link #statusText}) and
 * what the log says ({@link #detail}). Neither holds a secret. The core reports the ends it decides
 * ({@link Cause#NO_BROWSER_ATTACHED}, {@link Cause#VIEWER_GONE}, {@link Cause#GATEWAY_LOST}); the edge
 * builds the others from what it saw.
 */
public record EndReason(Cause cause, Status status, String statusText, String detail) {
    public enum Cause {
        /** No browser attached within the attach grace of the desktop being ready. */
        NO_BROWSER_ATTACHED,
        /** Every viewer left and none came back within the viewer grace. */
        VIEWER_GONE,
        /** The gateway stayed timed out for the peer-lost time. */
        GATEWAY_LOST,
        /** The engine stopped the instance (Stop, shutdown, a failed launch). */
        STOPPED,
        /** The desktop closed the RFB connection. */
        DESKTOP_CLOSED,
        /** Reading from or writing to the desktop failed. */
        DESKTOP_LOST,
        /** The desktop broke the RFB protocol. */
        DESKTOP_PROTOCOL_ERROR,
        /** The desktop refused the session (e.g. the password). */
        DESKTOP_REFUSED,
        /** A bug in the engine. */
        INTERNAL_ERROR
    }

    public EndReason {
        if (cause == null || status == null || statusText == null || detail == null) {
            throw new IllegalArgumentException("every field of an end reason is required");
        }
    }

    static EndReason noBrowserAttached(long attachGraceNs) {
        return new EndReason(Cause.NO_BROWSER_ATTACHED, Status.SESSION_ENDED, "no viewer",
                "no browser attached within " + attachGraceNs / 1_000_000 + " ms of the desktop being ready");
    }

    static EndReason viewerGone(long viewerGraceNs) {
        return new EndReason(Cause.VIEWER_GONE, Status.SESSION_ENDED, "no viewer",
                "no viewer within " + viewerGraceNs / 1_000_000 + " ms of the gateway's VIEWER_LEFT");
    }

    static EndReason gatewayLost(long peerLostNs) {
        return new EndReason(Cause.GATEWAY_LOST, Status.SESSION_ENDED, "gateway lost",
                "nothing heard from the gateway for " + peerLostNs / 1_000_000 + " ms past its timeout");
    }

    static EndReason stopped() {
        return new EndReason(Cause.STOPPED, Status.SESSION_ENDED, "session stopped", "stopped");
    }

    static EndReason desktopClosed() {
        return new EndReason(Cause.DESKTOP_CLOSED, Status.SESSION_ENDED, "the desktop closed the connection",
                "desktop closed the connection");
    }

    static EndReason desktopLost(String why) {
        return new EndReason(Cause.DESKTOP_LOST, Status.SESSION_ENDED, "desktop connection lost", "desktop connection lost: " + why);
    }

    static EndReason desktopProtocolError(String why) {
        return new EndReason(Cause.DESKTOP_PROTOCOL_ERROR, Status.PROTOCOL_ERROR, "desktop protocol error", "RFB protocol error: " + why);
    }

    static EndReason desktopRefused(Status status, String why) {
        return new EndReason(Cause.DESKTOP_REFUSED, status, "desktop refused the session", why);
    }

    static EndReason internalError(RuntimeException e) {
        return new EndReason(Cause.INTERNAL_ERROR, Status.INTERNAL_ERROR, "engine error", "internal error: " + e);
    }
}
