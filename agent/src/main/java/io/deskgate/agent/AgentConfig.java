package io.deskgate.agent;

import io.deskgate.control.ControlAuth;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * Configuration of one agent: the TigerVNC desktops it runs on this machine and its gRPC endpoint.
 * Validated when built.
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
 */
public record AgentConfig(String agentId, int desktops, int width, int height, Path runtimeDir, String bindHost,
                          int grpcPort, Duration oneTimePasswordTtl, List<String> session, byte[] controlSecret,
                          DesktopIsolation isolation, Duration disconnectedRelease) {
    public static final int MAX_DESKTOPS = 64;
    public static final Duration DEFAULT_DISCONNECTED_RELEASE = Duration.ofMinutes(120);
    public static final List<String> DEFAULT_SESSION = List.of("twm", "xterm");

    public AgentConfig {
        Objects.requireNonNull(agentId, "agentId");
        Objects.requireNonNull(runtimeDir, "runtimeDir");
        Objects.requireNonNull(bindHost, "bindHost");
        Objects.requireNonNull(oneTimePasswordTtl, "oneTimePasswordTtl");
        Objects.requireNonNull(isolation, "isolation");
        if (isolation.uidCount() < desktops) {
            throw new IllegalArgumentException("the desktop uid range has fewer uids than desktops: " + isolation.uidCount());
        }
        session = List.copyOf(Objects.requireNonNull(session, "session"));
        if (agentId.isBlank() || agentId.contains("/")) {
            throw new IllegalArgumentException("agentId must be non-blank and contain no '/': " + agentId);
        }
        if (desktops < 1 || desktops > MAX_DESKTOPS) {
            throw new IllegalArgumentException("desktops must be 1.." + MAX_DESKTOPS + ": " + desktops);
        }
        if (width < 64 || width > 8192 || height < 64 || height > 8192) {
            throw new IllegalArgumentException("geometry must be 64..8192 on each side: " + width + "x" + height);
        }
        if (grpcPort < 0 || grpcPort > 65535) throw new IllegalArgumentException("grpcPort out of range: " + grpcPort);
        if (oneTimePasswordTtl.isNegative() || oneTimePasswordTtl.isZero()) {
            throw new IllegalArgumentException("oneTimePasswordTtl must be positive: " + oneTimePasswordTtl);
        }
        for (String program : session) {
            if (program.isBlank()) throw new IllegalArgumentException("session has a blank program");
        }
        controlSecret = ControlAuth.checkedSecret(controlSecret);
        Objects.requireNonNull(disconnectedRelease, "disconnectedRelease");
        if (disconnectedRelease.isNegative() || disconnectedRelease.isZero()) {
            throw new IllegalArgumentException("disconnectedRelease must be positive: " + disconnectedRelease);
        }
    }

    /** Without a control secret yet: set one with {@link #withControlSecret} before {@link Agent#start}. */
    public AgentConfig(String agentId, int desktops, int width, int height, Path runtimeDir, String bindHost,
                       int grpcPort, Duration oneTimePasswordTtl, List<String> session) {
        this(agentId, desktops, width, height, runtimeDir, bindHost, grpcPort, oneTimePasswordTtl, session, new byte[0],
                DesktopIsolation.DEFAULT, DEFAULT_DISCONNECTED_RELEASE);
    }

    @Override
    public byte[] controlSecret() {
        return controlSecret.clone();
    }

    /** The defaults listed on each component, with {@code runtimeDir} given and no control secret yet. */
    public static AgentConfig defaults(Path runtimeDir) {
        return new AgentConfig("agent-1", 2, 1280, 800, runtimeDir, "127.0.0.1", 0, Duration.ofSeconds(60),
                DEFAULT_SESSION);
    }

    public AgentConfig withAgentId(String id) {
        return new AgentConfig(id, desktops, width, height, runtimeDir, bindHost, grpcPort, oneTimePasswordTtl, session,
                controlSecret, isolation, disconnectedRelease);
    }

    public AgentConfig withDesktops(int n) {
        return new AgentConfig(agentId, n, width, height, runtimeDir, bindHost, grpcPort, oneTimePasswordTtl, session,
                controlSecret, isolation, disconnectedRelease);
    }

    public AgentConfig withGeometry(int w, int h) {
        return new AgentConfig(agentId, desktops, w, h, runtimeDir, bindHost, grpcPort, oneTimePasswordTtl, session,
                controlSecret, isolation, disconnectedRelease);
    }

    public AgentConfig withOneTimePasswordTtl(Duration ttl) {
        return new AgentConfig(agentId, desktops, width, height, runtimeDir, bindHost, grpcPort, ttl, session,
                controlSecret, isolation, disconnectedRelease);
    }

    public AgentConfig withSession(List<String> programs) {
        return new AgentConfig(agentId, desktops, width, height, runtimeDir, bindHost, grpcPort, oneTimePasswordTtl,
                programs, controlSecret, isolation, disconnectedRelease);
    }

    public AgentConfig withIsolation(DesktopIsolation desktopUsers) {
        return new AgentConfig(agentId, desktops, width, height, runtimeDir, bindHost, grpcPort, oneTimePasswordTtl,
                session, controlSecret, desktopUsers, disconnectedRelease);
    }

    public AgentConfig withDisconnectedRelease(Duration release) {
        return new AgentConfig(agentId, desktops, width, height, runtimeDir, bindHost, grpcPort, oneTimePasswordTtl,
                session, controlSecret, isolation, release);
    }

    public AgentConfig withControlSecret(byte[] secret) {
        return new AgentConfig(agentId, desktops, width, height, runtimeDir, bindHost, grpcPort, oneTimePasswordTtl,
                session, secret, isolation, disconnectedRelease);
    }
}
