package io.deskgate.broker;

import io.deskgate.control.AgentGrpc;
import io.deskgate.control.ControlAuth;
import io.deskgate.control.ControlChannels;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The broker's connection to one agent: a gRPC channel whose calls carry the control credential, stubs
 * with the call deadline, and whether the
 * agent is answering, so that an agent that stops answering is logged once, not at every call.
 * Thread-safe; owned by the {@link Broker}, which closes it.
 */
final class AgentLink implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(AgentLink.class);

    private final String target;
    private final ManagedChannel channel;
    private final Duration callTimeout;
    private final AtomicBoolean down = new AtomicBoolean();

    AgentLink(String target, Duration callTimeout, ControlAuth auth) {
        this.target = target;
        this.callTimeout = callTimeout;
        this.channel = ControlChannels.open(target, auth);
    }

    String target() {
        return target;
    }

    /** A blocking stub whose calls end at the deadline; make one per call. */
    AgentGrpc.AgentBlockingStub stub() {
        return AgentGrpc.newBlockingStub(channel).withDeadlineAfter(callTimeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** The agent answered: logs if it had been unreachable; true if it logged. */
    boolean answered() {
        if (!down.compareAndSet(true, false)) return false;
        LOG.info("agent {} answers again", target);
        return true;
    }

    /** The agent did not answer ({@code status}): logs the first time only; true if it logged. */
    boolean unreachable(Status status) {
        if (!down.compareAndSet(false, true)) return false;
        LOG.warn("agent {} unreachable ({}): skipped until it answers", target, status.getCode());
        return true;
    }

    /** Whether a failed call means the agent is not answering, rather than that it refused the request. */
    static boolean isUnreachable(Status status) {
        return switch (status.getCode()) {
            case UNAVAILABLE, DEADLINE_EXCEEDED, CANCELLED, UNKNOWN, INTERNAL, UNIMPLEMENTED -> true;
            default -> false;
        };
    }

    @Override
    public void close() {
        ControlChannels.close(channel, Duration.ofSeconds(1));
    }
}
