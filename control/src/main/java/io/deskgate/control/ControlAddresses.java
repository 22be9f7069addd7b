package io.deskgate.control;

import java.net.InetAddress;
import java.util.Locale;
import java.util.Optional;

/**
 * The rule of issue 9 for where the control plane may run without mutual TLS: a control listener or a
 * control target that is not loopback requires {@code control.tls}; on loopback the bearer scheme of
 * {@link ControlAuth} remains unless TLS is configured. Pure: a host is loopback when it is
 * {@code localhost} or an IP literal of a loopback address ({@code 127.0.0.0/8}, {@code ::1}); no name is
 * resolved, so any other name, and a wildcard bind ({@code 0.0.0.0}, {@code ::}, empty), is not loopback.
 * Stateless.
 */
public final class ControlAddresses {
    private ControlAddresses() {}

    /** True for {@code localhost} or a loopback IP literal (brackets allowed), without any name lookup. */
    public static boolean isLoopback(String host) {
        String h = host.strip();
        if (h.startsWith("[") && h.endsWith("]")) h = h.substring(1, h.length() - 1);
        if (h.toLowerCase(Locale.ROOT).equals("localhost")) return true;
        if (!h.matches("[0-9.]+") && !h.contains(":")) return false; // a name: never resolved here
        try {
            return InetAddress.ofLiteral(h).isLoopbackAddress();
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /**
     * The one line refusing {@code host} for the control plane, when it is not loopback and {@code tls} is not
     * configured; empty when it is allowed.
     *
     * @param what names the listener or target in the line, e.g. {@code broker bind-host}
     */
    public static Optional<String> refusal(String what, String host, boolean tls) {
        if (tls || isLoopback(host)) return Optional.empty();
        return Optional.of(what + " " + (host.isBlank() ? "(all addresses)" : host) + " is not loopback: the control plane"
                + " off loopback needs mutual TLS (set control.tls.ca, control.tls.cert and control.tls.key; issue them with"
                + " deskgate ca issue <role>), or use 127.0.0.1");
    }

    /**
     * As {@link #refusal}, thrown.
     *
     * @throws IllegalArgumentException with that line
     */
    public static void requireTlsOffLoopback(String what, String host, boolean tls) {
        Optional<String> r = refusal(what, host, tls);
        if (r.isPresent()) throw new IllegalArgumentException(r.get());
    }
}
