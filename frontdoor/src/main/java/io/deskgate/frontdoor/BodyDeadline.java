package io.deskgate.frontdoor;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.Scheduler;

/**
 * A total deadline on receiving a request: a request whose body has not arrived in full within
 * {@code deadline} of its headers has its connection closed, however steadily it trickles (the idle
 * timeout only catches silence). {@link #start} goes outside the {@code EagerContentHandler}, {@link #reached}
 * right inside it (where the body is complete). Thread-safe.
 */
final class BodyDeadline {
    private static final String RECEIVED = "deskgate.bodyReceived";

    private BodyDeadline() {}

    /** Outer handler: arms the deadline for every request. */
    static Handler.Wrapper start(Handler next, Duration deadline) {
        return new Handler.Wrapper(next) {
            @Override
            public boolean handle(Request request, Response response, Callback callback) throws Exception {
                AtomicBoolean received = new AtomicBoolean();
                request.setAttribute(RECEIVED, received);
                Scheduler.Task task = getServer().getScheduler().schedule(() -> {
                    if (!received.get()) request.getConnectionMetaData().getConnection().getEndPoint().close();
                }, deadline.toMillis(), TimeUnit.MILLISECONDS);
                boolean handled = super.handle(request, response, Callback.from(callback, () -> task.cancel()));
                if (!handled) task.cancel();
                return handled;
            }
        };
    }

    /** Inner handler: the body is complete, the deadline no longer applies. */
    static Handler.Wrapper reached(Handler next) {
        return new Handler.Wrapper(next) {
            @Override
            public boolean handle(Request request, Response response, Callback callback) throws Exception {
                if (request.getAttribute(RECEIVED) instanceof AtomicBoolean received) received.set(true);
                return super.handle(request, response, callback);
            }
        };
    }
}
