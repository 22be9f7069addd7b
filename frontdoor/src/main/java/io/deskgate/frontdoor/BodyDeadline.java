package io.deskgate.frontdoor;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.jetty.io.EofException;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.Scheduler;

/**
 * A total deadline on receiving a request: a request whose body has not arrived in full within
 * {@code deadline} of its headers has its connection closed, however steadily it trickles (the idle
 * timeout only catches silence), and is never dispatched: the {@code EagerContentHandler} hands even a
 * request whose body failed to arrive to the next handler, and a thousand of those expiring at once would
 * otherwise fill the bounded request queue in front of the real users. {@link #start} goes outside the
 * {@code EagerContentHandler}, {@link #reached} right inside it (where the body is complete). Thread-safe.
 */
final class BodyDeadline {
    private static final String STATE = "deskgate.bodyState";
    private static final int PENDING = 0;
    private static final int RECEIVED = 1;
    private static final int EXPIRED = 2;

    private BodyDeadline() {}

    /** Outer handler: arms the deadline for every request that has a body to receive. */
    static Handler.Wrapper start(Handler next, Duration deadline) {
        return new Handler.Wrapper(next) {
            @Override
            public boolean handle(Request request, Response response, Callback callback) throws Exception {
                // A request without a body (a GET, Content-Length: 0) is complete with its headers: nothing to arm.
                if (request.getLength() == 0) return super.handle(request, response, callback);
                AtomicInteger state = new AtomicInteger(PENDING);
                request.setAttribute(STATE, state);
                Scheduler.Task task = getServer().getScheduler().schedule(() -> {
                    if (state.compareAndSet(PENDING, EXPIRED)) {
                        request.getConnectionMetaData().getConnection().getEndPoint().close();
                    }
                }, deadline.toMillis(), TimeUnit.MILLISECONDS);
                boolean handled = super.handle(request, response, Callback.from(callback, () -> task.cancel()));
                if (!handled) task.cancel();
                return handled;
            }
        };
    }

    /**
     * Inner handler: the body is complete, the deadline no longer applies; a request whose deadline
     * already passed (its connection is closed) ends here without reaching the handlers behind.
     */
    static Handler.Wrapper reached(Handler next) {
        return new Handler.Wrapper(next) {
            @Override
            public boolean handle(Request request, Response response, Callback callback) throws Exception {
                if (request.getAttribute(STATE) instanceof AtomicInteger state
                        && !state.compareAndSet(PENDING, RECEIVED) && state.get() == EXPIRED) {
                    callback.failed(new EofException("request body not received within the deadline"));
                    return true;
                }
                return super.handle(request, response, callback);
            }
        };
    }
}
