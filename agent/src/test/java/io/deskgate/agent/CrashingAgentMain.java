package io.deskgate.agent;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;

/**
 * Test-only: the agent in a JVM of its own, for {@link AgentCrashTest} to {@code kill -9}. Starts one
 * desktop, issues a one-time password for it, writes {@code <rfb port> <password>} to the ready file,
 * then waits to be killed (at most five minutes).
 *
 * <p>Arguments: runtime dir, user prefix, home base, runtime base, ready file, control secret (hex).
 */
public final class CrashingAgentMain {
    static final String AGENT_ID = "agent-c";

    private CrashingAgentMain() {}

    public static void main(String[] args) throws Exception {
        Agent agent = Agent.start(config(Path.of(args[0]), args[1], Path.of(args[2]), Path.of(args[3]),
                HexFormat.of().parseHex(args[5])));
        if (!agent.awaitReady(Duration.ofSeconds(60))) throw new IllegalStateException("desktop not ready");
        Agent.Reply reply = agent.initiateSession(AGENT_ID + "/1", "s1", 1, "alice");
        Path ready = Path.of(args[4]);
        Files.writeString(ready.resolveSibling(ready.getFileName() + ".tmp"),
                agent.desktops().getFirst().getPort() + " " + reply.vncPassword());
        Files.move(ready.resolveSibling(ready.getFileName() + ".tmp"), ready);
        Thread.sleep(Duration.ofMinutes(5));
    }

    static AgentConfig config(Path runtimeDir, String prefix, Path homeBase, Path runtimeBase, byte[] controlSecret) {
        DesktopIsolation base = DesktopIsolation.DEFAULT;
        return AgentConfig.builder().runtimeDir(runtimeDir).agentId(AGENT_ID).desktops(1).width(640).height(480)
                .controlSecret(controlSecret)
                .isolation(new DesktopIsolation(prefix, base.firstUid(), base.lastUid(), homeBase, runtimeBase)).build();
    }
}
