package io.deskgate.frontdoor;

import java.io.EOFException;
import java.nio.channels.ClosedChannelException;
import java.util.concurrent.TimeoutException;

/** Tells a client that hung up (or stalled past the read deadlines) from a server fault. Pure; thread-safe. */
final class ClientAbort {
    private ClientAbort() {}

    /** Whether {@code e} or a cause is an end of stream, a closed channel, a read timeout or Jetty's I/O failure. */
    static boolean is(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof EOFException || t instanceof ClosedChannelException || t instanceof TimeoutException) return true;
            if (t instanceof java.io.IOException && t.getClass().getName().startsWith("org.eclipse.jetty.")) return true;
        }
        return false;
    }
}
