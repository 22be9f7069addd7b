package io.deskgate.control;

import io.grpc.ManagedChannel;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Control channels shared by the clients of one process that call the same target: one connection per
 * target rather than one per client (docs/architecture.md, "Report deltas"; a benchmark's many simulated agents in
 * one JVM, each reporting to the same concentrators). Each {@link #acquire} is matched by one {@link #release}; a
 * channel is shut down when its last user releases it. Channels are {@link ControlChannels#openDirect} ones (their
 * callbacks run on the transport's thread), behind one credential. A channel whose server went away is not replaced
 * here: its calls fail, and gRPC reconnects it for the next call, as for a channel of one's own. Thread-safe.
 */
public final class SharedChannels {
    private final ControlAuth auth;
    /** Guarded by this. */
    private final Map<String, Entry> open = new HashMap<>();

    private static final class Entry {
        final ManagedChannel channel;
        int users;

        Entry(ManagedChannel channel) {
            this.channel = channel;
        }
    }

    public SharedChannels(ControlAuth auth) {
        this.auth = Objects.requireNonNull(auth, "auth");
    }

    /**
     * The channel to {@code target} ({@code host:port}), opened at its first user.
     *
     * @throws IllegalArgumentException for a malformed target, or one off loopback without TLS (as {@link ControlChannels})
     */
    public synchronized ManagedChannel acquire(String target) {
        Entry e = open.get(target);
        if (e == null || e.channel.isShutdown()) {
            e = new Entry(ControlChannels.openDirect(target, auth));
            open.put(target, e);
        }
        e.users++;
        return e.channel;
    }

    /** One user of {@code channel} (from {@link #acquire} of {@code target}) is done with it. */
    public synchronized void release(String target, ManagedChannel channel) {
        Entry e = open.get(target);
        if (e == null || e.channel != channel) {
            channel.shutdown(); // replaced meanwhile: this one had only its own users
            return;
        }
        if (--e.users > 0) return;
        open.remove(target);
        e.channel.shutdown(); // no user is left: nothing of theirs to cut short
    }

    /** The targets with a channel open now. */
    public synchronized int open() {
        return open.size();
    }
}
