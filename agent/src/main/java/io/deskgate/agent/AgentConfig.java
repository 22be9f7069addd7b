package io.deskgate.agent;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.deskgate.control.ControlAuth;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import io.deskgate.store.Names;

/**
 * Configuration of one agent: the TigerVNC desktops it runs on this machine and its gRPC endpoint.
 * Validated when built; the config file's {@code agent} section (docs/configuration.md) sets it through
 * {@link Builder}.
 *
 * @param agentId            names the agent; desktop ids are {@code <agentId>/<n>}, n from 1 (default {@code agent-1})
 * @param desktops           how many desktops to run, 1 to 64 (default 2)
 * @param width              framebuffer width in pixels (default 1280)
 * @param height             framebuffer height in pixels (default 800)
 * @param runtimeDir         private directory (made mode 0700) for password files, X authority and logs
 * @param bindHost           address of the gRPC server (default {@code 127.0.0.1})
 * @param grpcPort           port of the gRPC server, 0 for any free port (default 0)
 * @param oneTimePasswordTtl how long an issued VNC password stays valid if unused (default 60 s)
 * @param session            programs started in each desktop, in order, each a command line split on
 *                           spaces (default: the window manager {@code twm}, then {@code xterm})
 * @param controlSecret      the control plane's shared secret ({@link ControlAuth}), at least 32 bytes; every
 *                           call to the agent must carry its token. No default: empty means not set, and
 *                           {@link Agent#start} refuses to start without one. The accessor returns a copy
 * @param isolation          the OS users desktops run as when the agent runs as root (default
 *                           {@link DesktopIsolation#DEFAULT}); the agent's own user otherwise
 * @param disconnectedRelease how long a DISCONNECTED desktop waits for its user to come back before it is
 *                           ended and reset like a logout (default 120 min: "log off after disconnect")
 * @param tenant             the tenant of the pool the agent's desktops belong to, at least 1 (default 1): what it
 *                           reports to the concentrators
 * @param pool               the pool name it reports, 1 to 128 printable characters (default {@value #DEFAULT_POOL}):
 *                           only a fallback, for a broker request that names no pool scope; pools are the store's
 * @param labels             the agent's labels, each a store {@link Names} name, at most 64 (default none): a pool
 *                           holds the desktops of agents carrying one of its labels; reported to the concentrators
 *                           and in its desktops' {@code labels}
 * @param reportHeartbeat    how often the agent sends its concentrators a heartbeat and reads the registry (default
 *                           2 s); shorter than {@code reportTimeout}, and than every concentrator's {@code agent-timeout}
 * @param reportTimeout      a report stream without an ack this long is failed and its set chosen again (default 15 s,
 *                           the concentrators' default agent timeout)
 */
public record AgentConfig(String agentId, int desktops, int width, int height, Path runtimeDir, String bindHost,
                          int grpcPort, Duration oneTimePasswordTtl, List<String> session, byte[] controlSecret,
                          DesktopIsolation isolation, Duration disconnectedRelease, int tenant, String pool,
                          List<String> labels, Duration reportHeartbeat, Duration reportTimeout) {
    public static final int MAX_DESKTOPS = 64;
    public static final String DEFAULT_AGENT_ID = "agent-1";
    public static final int DEFAULT_DESKTOPS = 2;
    public static final int DEFAULT_WIDTH = 1280;
    public static final int DEFAULT_HEIGHT = 800;
    public static final Duration DEFAULT_ONE_TIME_PASSWORD_TTL = Duration.ofSeconds(60);
    public static final Duration DEFAULT_DISCONNECTED_RELEASE = Duration.ofMinutes(120);
    public static final List<String> DEFAULT_SESSION = List.of("twm", "xterm");
    public static final String DEFAULT_POOL = "default";
    public static final Duration DEFAULT_REPORT_HEARTBEAT = Duration.ofSeconds(2);
    public static final Duration DEFAULT_REPORT_TIMEOUT = Duration.ofSeconds(15);

    public AgentConfig {
        Objects.requireNonNull(agentId, "agentId");
        Objects.requireNonNull(runtimeDir, "runtimeDir");
        Objects.requireNonNull(bindHost, "bindHost");
        Objects.requireNonNull(oneTimePasswordTtl, "oneTimePasswordTtl");
        Objects.requireNonNull(isolation, "isolation");
        if (isolation.uidCount() < desktops) {
            throw new IllegalArgumentException("the desktop uid range (isolation first-uid..last-uid) has fewer uids than desktops: " + isolation.uidCount());
        }
        session = List.copyOf(Objects.requireNonNull(session, "session"));
        if (agentId.isBlank() || agentId.contains("/")) {
            throw new IllegalArgumentException("agent-id must be non-blank and contain no '/': " + agentId);
        }
        if (desktops < 1 || desktops > MAX_DESKTOPS) {
            throw new IllegalArgumentException("desktops must be 1.." + MAX_DESKTOPS + ": " + desktops);
        }
        if (width < 64 || width > 8192 || height < 64 || height > 8192) {
            throw new IllegalArgumentException("width and height must be 64..8192: " + width + "x" + height);
        }
        if (grpcPort < 0 || grpcPort > 65535) throw new IllegalArgumentException("grpc-port out of range 0-65535: " + grpcPort);
        if (oneTimePasswordTtl.isNegative() || oneTimePasswordTtl.isZero()) {
            throw new IllegalArgumentException("one-time-password-ttl must be positive: " + oneTimePasswordTtl);
        }
        for (String program : session) {
            if (program.isBlank()) throw new IllegalArgumentException("session has a blank program");
        }
        controlSecret = ControlAuth.checkedSecret(controlSecret);
        Objects.requireNonNull(disconnectedRelease, "disconnectedRelease");
        if (disconnectedRelease.isNegative() || disconnectedRelease.isZero()) {
            throw new IllegalArgumentException("disconnected-release must be positive: " + disconnectedRelease);
        }
        if (tenant < 1) throw new IllegalArgumentException("tenant must be at least 1: " + tenant);
        Objects.requireNonNull(pool, "pool");
        if (pool.isEmpty() || pool.length() > 128 || pool.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
            throw new IllegalArgumentException("pool must be 1 to 128 printable characters");
        }
        labels = List.copyOf(Objects.requireNonNull(labels, "labels"));
        if (labels.size() > 64) throw new IllegalArgumentException("labels: at most 64");
        for (String label : labels) {
            if (!Names.valid(label)) {
                throw new IllegalArgumentException("labels: each is 1 to " + Names.MAX_LENGTH
                        + " letters, digits, '.', '_', '@' or '-', starting with a letter or digit");
            }
        }
        Objects.requireNonNull(reportHeartbeat, "reportHeartbeat");
        Objects.requireNonNull(reportTimeout, "reportTimeout");
        if (reportHeartbeat.isNegative() || reportHeartbeat.isZero()) {
            throw new IllegalArgumentException("report-heartbeat must be positive: " + reportHeartbeat);
        }
        if (reportTimeout.compareTo(reportHeartbeat) <= 0) {
            throw new IllegalArgumentException("report-timeout (" + reportTimeout + ") must be longer than report-heartbeat ("
                    + reportHeartbeat + "): a stream would fail between two heartbeats");
        }
    }

    /**
     * Checks the agent's report heartbeat against a concentrator's agent timeout (both in one config file: {@code up},
     * or {@code run} with a file holding both sections): a concentrator that times an agent out before its next
     * heartbeat would forget every agent over and over.
     *
     * @throws IllegalArgumentException naming {@code report-heartbeat} when it is not shorter than {@code agentTimeout}
     */
    public void checkAgainstConcentrator(Duration agentTimeout) {
        if (reportHeartbeat.compareTo(agentTimeout) >= 0) {
            throw new IllegalArgumentException("report-heartbeat (" + reportHeartbeat + ") must be shorter than the "
                    + "concentrator's agent-timeout (" + agentTimeout + "), which forgets an agent silent that long");
        }
    }

    /** A builder holding every default, no runtime directory (required) and no control secret yet. */
    public static Builder builder() { return new Builder(); }

    /** A builder holding this config's values. */
    public Builder toBuilder() { return new Builder(this); }

    @Override
    public byte[] controlSecret() {
        return controlSecret.clone();
    }

    /** Every component but the control secret, which only says whether it is set. */
    @Override
    public String toString() {
        return "AgentConfig[agentId=" + agentId + ", desktops=" + desktops + ", width=" + width + ", height=" + height
                + ", runtimeDir=" + runtimeDir + ", bindHost=" + bindHost + ", grpcPort=" + grpcPort + ", oneTimePasswordTtl="
                + oneTimePasswordTtl + ", session=" + session + ", controlSecret=" + (controlSecret.length == 0 ? "unset" : "(redacted)")
                + ", isolation=" + isolation + ", disconnectedRelease=" + disconnectedRelease + ", tenant=" + tenant + ", pool=" + pool
                + ", labels=" + labels + ", reportHeartbeat=" + reportHeartbeat + ", reportTimeout=" + reportTimeout + "]";
    }

    /**
     * Builds an {@link AgentConfig}, validated by {@link #build()}. The methods marked {@code @JsonProperty} are the
     * keys of the {@code agent} section (docs/configuration.md); {@code isolation} is its sub-section.
     */
    public static final class Builder {
        private String agentId = DEFAULT_AGENT_ID;
        private int desktops = DEFAULT_DESKTOPS;
        private int width = DEFAULT_WIDTH;
        private int height = DEFAULT_HEIGHT;
        private Path runtimeDir;
        private String bindHost = "127.0.0.1";
        private int grpcPort;
        private Duration oneTimePasswordTtl = DEFAULT_ONE_TIME_PASSWORD_TTL;
        private List<String> session = DEFAULT_SESSION;
        private byte[] controlSecret = new byte[0];
        private DesktopIsolation isolation = DesktopIsolation.DEFAULT;
        private Duration disconnectedRelease = DEFAULT_DISCONNECTED_RELEASE;
        private int tenant = 1;
        private String pool = DEFAULT_POOL;
        private List<String> labels = List.of();
        private Duration reportHeartbeat = DEFAULT_REPORT_HEARTBEAT;
        private Duration reportTimeout = DEFAULT_REPORT_TIMEOUT;

        private Builder() {}

        private Builder(AgentConfig c) {
            agentId = c.agentId;
            desktops = c.desktops;
            width = c.width;
            height = c.height;
            runtimeDir = c.runtimeDir;
            bindHost = c.bindHost;
            grpcPort = c.grpcPort;
            oneTimePasswordTtl = c.oneTimePasswordTtl;
            session = c.session;
            controlSecret = c.controlSecret;
            isolation = c.isolation;
            disconnectedRelease = c.disconnectedRelease;
            tenant = c.tenant;
            pool = c.pool;
            labels = c.labels;
            reportHeartbeat = c.reportHeartbeat;
            reportTimeout = c.reportTimeout;
        }

        @JsonProperty public Builder agentId(String id) { agentId = id; return this; }

        @JsonProperty public Builder desktops(int n) { desktops = n; return this; }

        @JsonProperty public Builder width(int pixels) { width = pixels; return this; }

        @JsonProperty public Builder height(int pixels) { height = pixels; return this; }

        @JsonProperty public Builder runtimeDir(Path dir) { runtimeDir = dir; return this; }

        @JsonProperty public Builder bindHost(String host) { bindHost = host; return this; }

        @JsonProperty public Builder grpcPort(int port) { grpcPort = port; return this; }

        @JsonProperty public Builder oneTimePasswordTtl(Duration ttl) { oneTimePasswordTtl = ttl; return this; }

        @JsonProperty public Builder session(List<String> programs) { session = List.copyOf(programs); return this; }

        /** Never from a file: {@code deskgate up} keeps it in the store's secrets. */
        @JsonIgnore public Builder controlSecret(byte[] secret) { controlSecret = secret.clone(); return this; }

        public Builder isolation(DesktopIsolation desktopUsers) { isolation = desktopUsers; return this; }

        @JsonProperty public Builder disconnectedRelease(Duration release) { disconnectedRelease = release; return this; }

        @JsonProperty public Builder tenant(int id) { tenant = id; return this; }

        @JsonProperty public Builder pool(String name) { pool = name; return this; }

        @JsonProperty public Builder labels(List<String> names) { labels = List.copyOf(names); return this; }
        @JsonProperty public Builder reportHeartbeat(Duration every) { reportHeartbeat = every; return this; }

        @JsonProperty public Builder reportTimeout(Duration timeout) { reportTimeout = timeout; return this; }

        /** @throws IllegalArgumentException naming the key of a value out of range, or when no runtime directory is set */
        public AgentConfig build() {
            if (runtimeDir == null) throw new IllegalArgumentException("runtime-dir is not set");
            return new AgentConfig(agentId, desktops, width, height, runtimeDir, bindHost, grpcPort, oneTimePasswordTtl, session,
                    controlSecret, isolation, disconnectedRelease, tenant, pool, labels, reportHeartbeat, reportTimeout);
        }
    }
}
