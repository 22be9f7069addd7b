package io.deskgate.engine;

import com.fasterxml.jackson.annotation.JsonCreator;
import io.deskgate.rfb.RfbEncodings;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.util.Locale;

/**
 * What a transcoding instance asks its desktop for (RFB SetEncodings, {@link RfbEncodings}), by the link
 * (docs/architecture.md, "RFB encodings by link"): {@code auto} asks a desktop on the same host for Raw (the
 * cheapest in CPU for the desktop and the engine together: nothing to compress, nothing to inflate; the bytes cross
 * only the loopback) and one across a network for lossless Tight (the most compact). The others force one encoding.
 * Every choice keeps CopyRect, DesktopSize and LastRect, and Raw as the fallback RFC 6143 requires. No choice asks
 * for Tight's JPEG: the engine's own encoder decides what is lossy, and refines it, which it can only do from exact
 * pixels. In a config file by its lower-case name ({@code engine.rfb-encodings}).
 */
public enum RfbEncodingChoice {
    /** Raw on the same host, Tight across a network. */
    AUTO,
    /** Raw, CopyRect. */
    RAW,
    /** ZRLE, CopyRect, Raw (what the engine asked before the choice). */
    ZRLE,
    /** Tight without JPEG (zlib, palette, gradient, fill), then ZRLE, CopyRect, Raw. */
    TIGHT,
    /** Hextile, CopyRect, Raw. */
    HEXTILE;

    /**
     * The choice named {@code auto}, {@code raw}, {@code zrle}, {@code tight} or {@code hextile} (never a number).
     *
     * @throws IllegalArgumentException for any other name
     */
    @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
    public static RfbEncodingChoice of(String name) {
        for (RfbEncodingChoice c : values()) if (c.name().toLowerCase(Locale.ROOT).equals(name)) return c;
        throw new IllegalArgumentException("rfb-encodings must be auto, raw, zrle, tight or hextile: " + name);
    }

    /** The encodings to ask for when the desktop is ({@code sameHost}) or is not on the engine's host. */
    public RfbEncodings encodings(boolean sameHost) {
        return switch (this) {
            case AUTO -> (sameHost ? RAW : TIGHT).encodings(sameHost);
            case RAW -> RfbEncodings.of(RfbEncodings.RAW, RfbEncodings.COPY_RECT, RfbEncodings.DESKTOP_SIZE, RfbEncodings.LAST_RECT);
            case ZRLE -> RfbEncodings.DEFAULT;
            case TIGHT -> RfbEncodings.of(RfbEncodings.TIGHT, RfbEncodings.ZRLE, RfbEncodings.COPY_RECT, RfbEncodings.RAW,
                    RfbEncodings.DESKTOP_SIZE, RfbEncodings.LAST_RECT);
            case HEXTILE -> RfbEncodings.of(RfbEncodings.HEXTILE, RfbEncodings.COPY_RECT, RfbEncodings.RAW, RfbEncodings.DESKTOP_SIZE,
                    RfbEncodings.LAST_RECT);
        };
    }

    /**
     * Whether {@code address} (a connected desktop's) is this host: a loopback or wildcard address, or one of this
     * host's interfaces. An interface lookup that fails counts as another host (the compact choice is safe anywhere).
     */
    public static boolean isSameHost(InetAddress address) {
        if (address.isLoopbackAddress() || address.isAnyLocalAddress()) return true;
        try {
            return NetworkInterface.getByInetAddress(address) != null;
        } catch (SocketException e) {
            return false;
        }
    }
}
