package io.deskgate.engine;

import io.deskgate.stream.StreamIds;
import java.net.InetSocketAddress;
import java.util.Optional;
import java.util.UUID;

/**
 * What one transcoding instance needs: the desktop to connect to with its one-time password, and the
 * gateway to stream to with the session's UDP key. Holds secrets: {@link #toString()} omits them.
 *
 * @param sessionId the unique socket the instance belongs to
 * @param streamKey 32 bytes, the AES-256-GCM key of the instance's UDP leg: derived for {@link #streamId()}
 * @param instanceId the instance's unique reference identifier when the frontdoor chose it (a further connection of
 *                   the unique socket, which streams under its own {@link StreamIds#of stream id}); empty: the
 *                   engine draws one and the instance streams under the session id (the socket's first connection)
 */
public record LaunchSpec(UUID sessionId, int tenant, String desktopHost, int desktopPort, String vncPassword,
                         InetSocketAddress gateway, byte[] streamKey, Optional<UUID> instanceId) {
    /** The socket's first connection: the engine draws the instance id, the stream is the session's own. */
    public LaunchSpec(UUID sessionId, int tenant, String desktopHost, int desktopPort, String vncPassword,
                      InetSocketAddress gateway, byte[] streamKey) {
        this(sessionId, tenant, desktopHost, desktopPort, vncPassword, gateway, streamKey, Optional.empty());
    }

    public LaunchSpec {
        if (desktopHost.isBlank()) throw new IllegalArgumentException("desktop host is empty");
        if (desktopPort < 1 || desktopPort > 0xffff) throw new IllegalArgumentException("desktop port out of range: " + desktopPort);
        if (gateway.getPort() < 1) throw new IllegalArgumentException("gateway port out of range: " + gateway.getPort());
        if (gateway.isUnresolved()) throw new IllegalArgumentException("gateway host does not resolve: " + gateway.getHostString());
        if (streamKey.length != 32) throw new IllegalArgumentException("stream key must be 32 bytes, not " + streamKey.length);
        streamKey = streamKey.clone();
    }

    @Override public byte[] streamKey() { return streamKey.clone(); }

    /** What the instance's datagrams carry as their id (docs/protocol.md §2.1) and the gateway routes them by. */
    public UUID streamId() {
        return instanceId.map(i -> StreamIds.of(sessionId, i)).orElse(sessionId);
    }

    @Override public String toString() {
        return "LaunchSpec[session=" + sessionId + instanceId.map(i -> ", instance=" + i).orElse("") + ", tenant=" + tenant
                + ", desktop=" + desktopHost + ":" + desktopPort
                + ", gateway=" + gateway + "]";
    }
}
