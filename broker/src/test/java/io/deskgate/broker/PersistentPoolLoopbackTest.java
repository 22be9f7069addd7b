package io.deskgate.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.deskgate.agent.SimulatedAgent;
import io.deskgate.common.Secrets;
import io.deskgate.control.Desktop;
import io.deskgate.control.DesktopState;
import io.deskgate.control.EndSessionRequest;
import io.deskgate.control.FindDesktopReply;
import io.deskgate.control.FindDesktopRequest;
import io.deskgate.control.PoolScope;
import io.deskgate.control.ReleaseUserRequest;
import io.deskgate.control.SessionStartedRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Pools acted on by the direct {@link Broker} (issue 8 item 6) over loopback gRPC, against a {@link SimulatedAgent}
 * (the real {@code DesktopLifecycle}, no Xvnc): persistent assignment, keeping a desktop at logout, and the release
 * of a removed user.
 */
class PersistentPoolLoopbackTest {
    private static final byte[] SECRET = Secrets.randomBytes(32);
    private final List<AutoCloseable> resources = new ArrayList<>();
    private SimulatedAgent agent;
    private Broker broker;

    @BeforeEach
    void start() throws Exception {
        agent = SimulatedAgent.start("agent-1", 3, SECRET);
        resources.add(agent);
        broker = Broker.start(BrokerConfig.builder().bindHost("127.0.0.1").grpcPort(0).agentTargets(List.of(agent.target()))
                .controlSecret(SECRET).build());
        resources.add(broker);
    }

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable r : resources.reversed()) r.close();
    }

    private static FindDesktopRequest request(String session, String user, boolean persistent) {
        return FindDesktopRequest.newBuilder().setSessionId(session).setUser(user).setTenant(1).setPool("p")
                .setScope(PoolScope.newBuilder().addAgents("agent-1").setPersistent(persistent)).build();
    }

    /** A session on a desktop of the pool: found, started, ended ({@code keep}: as a pool that keeps desktops). */
    private String session(String session, String user, boolean persistent, boolean keep) {
        return session(request(session, user, persistent), keep);
    }

    private String session(FindDesktopRequest request, boolean keep) {
        String session = request.getSessionId();
        FindDesktopReply r = broker.findDesktop(request);
        String id = r.getDesktop().getDesktopId();
        broker.sessionStarted(SessionStartedRequest.newBuilder().setDesktopId(id).setSessionId(session).build());
        broker.endSession(EndSessionRequest.newBuilder().setDesktopId(id).setSessionId(session).setKeep(keep).build());
        return id;
    }

    private Desktop desktop(String id) {
        return agent.desktops().stream().filter(d -> d.getDesktopId().equals(id)).findFirst().orElseThrow();
    }

    @Test
    void shouldGiveEachUserOfAPersistentPoolTheSameDesktopEveryTime() {
        String alices = session("s-1", "alice", true, false);
        assertThat(desktop(alices).getState()).isEqualTo(DesktopState.AVAILABLE);
        assertThat(desktop(alices).getUser()).as("reset and dedicated to her").isEqualTo("alice");

        String bobs = session("s-2", "bob", true, false);
        assertThat(bobs).isNotEqualTo(alices);
        for (int i = 0; i < 3; i++) assertThat(session("a-" + i, "alice", true, false)).isEqualTo(alices);
        assertThat(session("b-9", "bob", true, false)).isEqualTo(bobs);

        // A floating request for carol never takes a desktop dedicated to someone.
        FindDesktopReply carol = broker.findDesktop(request("c-1", "carol", false));
        assertThat(carol.getDesktop().getDesktopId()).isNotIn(alices, bobs);
        StatusRuntimeException none = assertThrows(StatusRuntimeException.class,
                () -> broker.findDesktop(request("d-1", "dave", true)));
        assertThat(none.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
    }

    @Test
    void shouldKeepTheDesktopForItsUserAtLogoutWhenThePoolSaysSo() {
        String id = session("s-1", "alice", false, true);
        assertThat(desktop(id).getState()).isEqualTo(DesktopState.DISCONNECTED);
        assertThat(desktop(id).getUser()).isEqualTo("alice");
        FindDesktopReply bob = broker.findDesktop(request("s-2", "bob", false));
        assertThat(bob.getDesktop().getDesktopId()).as("not passed to another user").isNotEqualTo(id);
        FindDesktopReply back = broker.findDesktop(request("s-3", "alice", false));
        assertThat(back.getDesktop().getDesktopId()).isEqualTo(id);
        assertThat(back.getReconnect()).as("her work is on it").isTrue();
    }

    @Test
    void shouldReleaseARemovedUsersDesktopsForOthers() {
        String dedicated = session("s-1", "alice", true, false);
        String other = dedicated.equals("agent-1/1") ? "agent-1/2" : "agent-1/1";
        String kept = session(request("s-2", "alice", false).toBuilder().setDesktopId(other).build(), true);
        assertThat(desktop(kept).getState()).isEqualTo(DesktopState.DISCONNECTED);
        assertThat(kept).isNotEqualTo(dedicated);
        assertThat(broker.releaseUser(ReleaseUserRequest.newBuilder().setTenant(1).setUser("alice").addAgents("agent-2").build())
                .getReleased()).as("another agent's pool revoked: nothing here").isZero();
        assertThat(desktop(dedicated).getUser()).isEqualTo("alice");
        int released = broker.releaseUser(ReleaseUserRequest.newBuilder().setTenant(1).setUser("alice").addAgents("agent-1")
                .build()).getReleased();
        assertThat(released).isEqualTo(2);
        assertThat(agent.desktops()).allSatisfy(d -> {
            assertThat(d.getUser()).isEmpty();
            assertThat(d.getState()).isEqualTo(DesktopState.AVAILABLE);
        });
        assertThat(broker.releaseUser(ReleaseUserRequest.newBuilder().setTenant(1).setUser("alice").build()).getReleased())
                .isZero();
    }
}
