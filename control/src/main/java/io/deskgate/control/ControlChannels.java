package io.deskgate.control;

import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The one way a role (or a benchmark) opens a channel to another role's control service: to a
 * {@code host:port} target, every call carrying the control credential ({@link ControlAuth}): mutual TLS
 * with the cluster CA's certificates when the auth has them ({@link ControlAuth#mutualTls}), the server's
 * certificate checked against the target's host; else plaintext with the bearer token, which only a
 * loopback target may be sent ({@link ControlAddresses}), so that the token never crosses a network in
 * the clear. Stateless.
 */
public final class ControlChannels {
    private ControlChannels() {}

    /** A control service's address, as written in a config: {@code host:port} or {@code [v6-address]:port}. */
    public record Target(String host, int port) {
        public Target {
            if (host == null || host.isBlank()) throw new IllegalArgumentException("control target has no host");
            if (port < 1 || port > 65535) throw new IllegalArgumentException("control target port out of range: " + port);
        }

        /**
         * Parses {@code host:port} (an IPv6 address in brackets).
         *
         * @throws IllegalArgumentException naming the target when it is not of that form
         */
        public static Target parse(String target) {
            int colon = target.lastIndexOf(':');
            if (colon <= 0 || colon == target.length() - 1) throw malformed(target);
            String host = target.substring(0, colon);
            if (host.startsWith("[") && host.endsWith("]")) host = host.substring(1, host.length() - 1);
            if (host.isBlank() || host.contains("[") || host.contains("]")) throw malformed(target);
            int port;
            try {
                port = Integer.parseInt(target.substring(colon + 1));
            } catch (NumberFormatException e) {
                throw malformed(target);
            }
            if (port < 1 || port > 65535) throw new IllegalArgumentException("control target port out of range: " + target);
            return new Target(host, port);
        }

        private static IllegalArgumentException malformed(String target) {
            return new IllegalArgumentException("control target must be host:port: " + target);
        }
    }

    /**
     * A channel to {@code target} ({@code host:port}) whose every call carries {@code auth}'s credential.
     *
     * @throws IllegalArgumentException when the target is not {@code host:port}, or is not loopback and
     *                                  {@code auth} has no mutual TLS
     */
    public static ManagedChannel open(String target, ControlAuth auth) {
        Target t = checked(target, auth);
        return Grpc.newChannelBuilderForAddress(t.host(), t.port(), auth.channelCredentials())
                .intercept(auth.clientInterceptor()).build();
    }

    /**
     * As {@link #open}, but the calls' callbacks run on the transport's event loop thread rather than being
     * handed to an executor thread: one thread wake-up fewer per answer, which on a busy control plane is a
     * large part of a unary call's CPU (docs/benchmarks.md, "broker"). Only for callers whose callbacks
     * never block (they hand the answer on, complete a future, or relay it to another call); blocking stubs
     * are unaffected (they wait on their own executor).
     *
     * @throws IllegalArgumentException when the target is not {@code host:port}, or is not loopback and
     *                                  {@code auth} has no mutual TLS
     */
    public static ManagedChannel openDirect(String target, ControlAuth auth) {
        Target t = checked(target, auth);
        return Grpc.newChannelBuilderForAddress(t.host(), t.port(), auth.channelCredentials())
                .intercept(auth.clientInterceptor()).directExecutor().build();
    }

    private static Target checked(String target, ControlAuth auth) {
        Target t = Target.parse(target);
        ControlAddresses.requireTlsOffLoopback("control target", t.host(), auth.tls().isPresent());
        return t;
    }

    /** Stops the channel at once, waiting at most {@code wait} for its calls and threads to end. */
    public static void close(ManagedChannel channel, Duration wait) {
        channel.shutdownNow();
        try {
            channel.awaitTermination(wait.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
