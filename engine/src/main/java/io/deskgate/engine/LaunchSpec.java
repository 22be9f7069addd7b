package io.deskgate.engine;

import java.net.InetSocketAddress;
import java.util.UUID;

/**
 * What one transcoding instance needs: the desktop to connect to with its one-time password, and the
 * gateway to stream to with the session's UDP key. Holds secrets: {@link #toString()} omits them.
 *
 * @param sessionId the unique socket the instance belongs to
 * @param streamKey 32 bytes, the AES-256-GCM key of the session's UDP leg
 */
public record LaunchSpec(UUID sessionId, int tenant, String desktopHost, int desktopPort, String vncPassword,
                         InetSocketAddress gateway, byte[] streamKey) {
    public LaunchSpec {
        if (desktopHost.isBlank()) throw new IllegalArgumentException("desktop host is empty");
        if (desktopPort < 1 || desktopPort > 0xffff) throw new IllegalArgumentException("desktop port out of range: " + desktopPort);
        if (gateway.getPort() < 1) throw new IllegalArgumentException("gateway port out of range: " + gateway.getPort());
        if (gateway.isUnresolved()) throw new IllegalArgumentException("gateway host does not resolve: " + gateway.getHostString());
        if (streamKey.length != 32) throw new IllegalArgumentException("stream key must be 32 bytes, not " + streamKey.length);
        streamKey = streamKey.clone();
    }

    @Override public byte[] streamKey() { return streamKey.clone(); }

    @Override public String toString() {
        return "LaunchSpec[session=" + sessionId + ", tenant=" + tenant + ", desktop=" + desktopHost + ":" + desktopPort
                + ", gateway=" + gateway + "]";
    }
}
