package io.deskgate.frontdoor;

/**
 * A {@code host:port} address as the registry holds it ({@code [v6]:port} for IPv6). Immutable; validated
 * when parsed.
 */
record HostPort(String host, int port) {
    HostPort {
        if (host.isEmpty()) throw new IllegalArgumentException("empty host");
        if (port < 1 || port > 65_535) throw new IllegalArgumentException("port out of range: " + port);
    }

    /** @throws IllegalArgumentException when {@code text} is not {@code host:port} */
    static HostPort parse(String text) {
        int colon = text.lastIndexOf(':');
        if (colon <= 0) throw new IllegalArgumentException("not host:port");
        String host = text.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) host = host.substring(1, host.length() - 1);
        try {
            return new HostPort(host, Integer.parseInt(text.substring(colon + 1)));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("port is not a number");
        }
    }

    /** An unresolved socket address (resolved at each connect, so a changed address is followed). */
    java.net.InetSocketAddress unresolved() { return java.net.InetSocketAddress.createUnresolved(host, port); }

    /** {@code host:port}, with brackets around an IPv6 host. */
    @Override
    public String toString() { return (host.contains(":") ? "[" + host + "]" : host) + ":" + port; }
}
