package io.deskgate.agent;

import static org.assertj.core.api.Assertions.assertThat;

import io.deskgate.agent.DesktopLifecycle.Accepted;
import io.deskgate.agent.DesktopLifecycle.Launch;
import io.deskgate.agent.DesktopLifecycle.Outcome;
import io.deskgate.agent.DesktopLifecycle.Rejected;
import io.deskgate.agent.DesktopLifecycle.Rejection;
import io.deskgate.agent.DesktopLifecycle.RestartPolicy;
import io.deskgate.agent.DesktopLifecycle.ScramblePassword;
import io.deskgate.control.DesktopState;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link DesktopLifecycle}'s single steps. The longer stories (reconnect, release after a disconnect, restart
 * backoff, tenants) are scenario files in {@code src/test/testdata/desktop-lifecycle}
 * ({@link DesktopLifecycleScenarioTest}).
 */
class DesktopLifecycleTest {
    private static final long S = 1_000_000_000L;
    private static final long TTL = 60 * S;
    private static final long RELEASE = 7_200 * S;
    /** The tenant of most tests' users; {@link #T2} is another tenant that also has an "alice". */
    private static final int T1 = 1;
    private static final int T2 = 2;
    private static final RestartPolicy POLICY = new RestartPolicy(3, 1 * S, 4 * S, 60 * S);

    /** The fake clock: starts far from zero so that nothing depends on a zero epoch. */
    private long now = 1_000 * S;
    private DesktopLifecycle core;

    @BeforeEach
    void startTwoDesktops() {
        core = new DesktopLifecycle("agent-1", 2, 1280, 800, TTL, RELEASE, POLICY);
        assertThat(core.start(now)).containsExactly(new Launch(0, 1), new Launch(1, 1));
        assertThat(core.state(0)).isEqualTo(DesktopState.STARTING);
        core.onLaunched(0, 1, "127.0.0.1", 5901, now);
        core.onLaunched(1, 1, "127.0.0.1", 5902, now);
    }

    @Test
    void shouldBecomeAvailableWhenLaunched() {
        assertThat(core.desktops()).extracting(d -> d.getDesktopId() + " " + d.getState() + " " + d.getPort())
                .containsExactly("agent-1/1 AVAILABLE 5901", "agent-1/2 AVAILABLE 5902");
        assertThat(core.snapshot(0).getWidth()).isEqualTo(1280);
    }

    @Test
    void shouldAssignAvailableDesktopAndIssueOneTimePassword() {
        Accepted a = accepted(core.initiate("agent-1/1", "s1", T1, "alice", now));
        assertThat(a.issuesPassword()).isTrue();
        assertThat(a.actions()).isEmpty();
        assertThat(a.desktop().getState()).isEqualTo(DesktopState.ASSIGNED);
        assertThat(a.desktop().getUser()).isEqualTo("alice");
        assertThat(a.desktop().getTenant()).isEqualTo(T1);
        assertThat(a.desktop().getSessionId()).isEqualTo("s1");
    }

    @Test
    void shouldRejectUnknownDesktopAsNotFound() {
        assertThat(rejection(core.initiate("agent-1/3", "s1", T1, "alice", now))).isEqualTo(Rejection.NOT_FOUND);
        assertThat(rejection(core.initiate("agent-2/1", "s1", T1, "alice", now))).isEqualTo(Rejection.NOT_FOUND);
        assertThat(rejection(core.initiate("agent-1/0", "s1", T1, "alice", now))).isEqualTo(Rejection.NOT_FOUND);
        assertThat(rejection(core.initiate("agent-1/x", "s1", T1, "alice", now))).isEqualTo(Rejection.NOT_FOUND);
        assertThat(rejection(core.sessionStarted("nope", "s1", now))).isEqualTo(Rejection.NOT_FOUND);
        assertThat(rejection(core.endSession("agent-1/9", "s1", now))).isEqualTo(Rejection.NOT_FOUND);
    }

    @Test
    void shouldRejectMissingSessionOrUser() {
        assertThat(rejection(core.initiate("agent-1/1", "", T1, "alice", now))).isEqualTo(Rejection.INVALID_ARGUMENT);
        assertThat(rejection(core.initiate("agent-1/1", "s1", T1, " ", now))).isEqualTo(Rejection.INVALID_ARGUMENT);
    }

    @Test
    void shouldRefuseDesktopHeldByAnotherUser() {
        accepted(core.initiate("agent-1/1", "s1", T1, "alice", now));
        assertThat(rejection(core.initiate("agent-1/1", "s2", T1, "bob", now))).isEqualTo(Rejection.FAILED_PRECONDITION);
        accepted(core.sessionStarted("agent-1/1", "s1", now));
        assertThat(rejection(core.initiate("agent-1/1", "s2", T1, "bob", now))).isEqualTo(Rejection.FAILED_PRECONDITION);
    }

    @Test
    void shouldNeverGiveOneTenantsUserAnotherTenantsDesktopOfTheSameName() {
        accepted(core.initiate("agent-1/1", "s1", T1, "alice", now));
        assertThat(rejection(core.initiate("agent-1/1", "s2", T2, "alice", now)))
                .as("tenant 2's alice while tenant 1's alice is ASSIGNED").isEqualTo(Rejection.FAILED_PRECONDITION);
        accepted(core.sessionStarted("agent-1/1", "s1", now));
        assertThat(rejection(core.initiate("agent-1/1", "s2", T2, "alice", now))).as("IN_USE")
                .isEqualTo(Rejection.FAILED_PRECONDITION);
        core.onViewerCount(0, 0, now + S);
        assertThat(core.state(0)).isEqualTo(DesktopState.DISCONNECTED);
        assertThat(rejection(core.initiate("agent-1/1", "s2", T2, "alice", now + 2 * S))).as("DISCONNECTED")
                .isEqualTo(Rejection.FAILED_PRECONDITION);
        assertThat(core.snapshot(0).getTenant()).as("still tenant 1's").isEqualTo(T1);
        Accepted back = accepted(core.initiate("agent-1/1", "s3", T1, "alice", now + 3 * S));
        assertThat(back.desktop().getSessionId()).as("tenant 1's alice reconnects").isEqualTo("s3");
        Accepted other = accepted(core.initiate("agent-1/2", "s2", T2, "alice", now + 3 * S));
        assertThat(other.desktop().getTenant()).isEqualTo(T2);
    }

    @Test
    void shouldRefuseDesktopThatIsStartingOrUnhealthy() {
        accepted(core.initiate("agent-1/1", "s1", T1, "alice", now));
        accepted(core.endSession("agent-1/1", "s1", now));
        assertThat(core.state(0)).isEqualTo(DesktopState.STARTING);
        assertThat(rejection(core.initiate("agent-1/1", "s2", T1, "alice", now))).isEqualTo(Rejection.FAILED_PRECONDITION);
        core.onExited(1, 1, now);
        assertThat(rejection(core.initiate("agent-1/2", "s2", T1, "alice", now))).isEqualTo(Rejection.FAILED_PRECONDITION);
    }

    @Test
    void shouldSpendThePasswordWhenTheSessionStarts() {
        accepted(core.initiate("agent-1/1", "s1", T1, "alice", now));
        Accepted started = accepted(core.sessionStarted("agent-1/1", "s1", now + S));
        assertThat(started.actions()).containsExactly(new ScramblePassword(0));
        assertThat(started.desktop().getState()).isEqualTo(DesktopState.IN_USE);
        assertThat(accepted(core.sessionStarted("agent-1/1", "s1", now + S)).actions()).as("repeat").isEmpty();
        assertThat(core.tick(now + 2 * TTL)).as("no expiry left once spent").isEmpty();
    }

    @Test
    void shouldRejectSessionStartedForAnotherSession() {
        accepted(core.initiate("agent-1/1", "s1", T1, "alice", now));
        assertThat(rejection(core.sessionStarted("agent-1/1", "s2", now))).isEqualTo(Rejection.FAILED_PRECONDITION);
        assertThat(rejection(core.sessionStarted("agent-1/2", "s1", now))).isEqualTo(Rejection.FAILED_PRECONDITION);
    }

    @Test
    void shouldExpireUnusedPasswordAndFreeTheDesktop() {
        accepted(core.initiate("agent-1/1", "s1", T1, "alice", now));
        assertThat(core.tick(now + TTL - 1)).isEmpty();
        assertThat(core.tick(now + TTL)).containsExactly(new ScramblePassword(0));
        assertThat(core.snapshot(0).getState()).isEqualTo(DesktopState.AVAILABLE);
        assertThat(core.snapshot(0).getUser()).isEmpty();
        assertThat(core.tick(now + 100 * TTL)).as("nothing left to expire").isEmpty();
    }

    @Test
    void shouldKeepInUseWhileAViewerIsConnected() {
        accepted(core.initiate("agent-1/1", "s1", T1, "alice", now));
        accepted(core.sessionStarted("agent-1/1", "s1", now));
        core.onViewerCount(0, 1, now + S);
        assertThat(core.state(0)).isEqualTo(DesktopState.IN_USE);
    }

    @Test
    void shouldResetDesktopWhenTheSessionEnds() {
        accepted(core.initiate("agent-1/1", "s1", T1, "alice", now));
        accepted(core.sessionStarted("agent-1/1", "s1", now));
        Accepted ended = accepted(core.endSession("agent-1/1", "s1", now + S));
        assertThat(ended.actions()).containsExactly(new ScramblePassword(0), new Launch(0, 2));
        assertThat(ended.desktop().getState()).isEqualTo(DesktopState.STARTING);
        assertThat(ended.desktop().getUser()).isEmpty();
        assertThat(core.isCurrent(0, 1)).isFalse();

        // The old Xvnc's exit and a late launch of generation 1 are ignored.
        core.onExited(0, 1, now + S);
        core.onLaunched(0, 1, "127.0.0.1", 5999, now + S);
        assertThat(core.state(0)).isEqualTo(DesktopState.STARTING);
        core.onLaunched(0, 2, "127.0.0.1", 5903, now + 2 * S);
        assertThat(core.snapshot(0).getState()).isEqualTo(DesktopState.AVAILABLE);
        assertThat(core.snapshot(0).getPort()).isEqualTo(5903);
    }

    @Test
    void shouldRefuseToEndAnotherSessionAndIgnoreEndingAFreeDesktop() {
        accepted(core.initiate("agent-1/1", "s1", T1, "alice", now));
        assertThat(rejection(core.endSession("agent-1/1", "s9", now))).isEqualTo(Rejection.FAILED_PRECONDITION);
        assertThat(accepted(core.endSession("agent-1/2", "s1", now)).actions()).isEmpty();
        assertThat(core.state(1)).isEqualTo(DesktopState.AVAILABLE);
    }

    // ------------------------------------------------------------------ pools: persistent assignment, keep at logout

    /** alice's session on desktop 1, initiated (dedicated when {@code dedicate}) and started. */
    private void aliceWorksOnDesktop1(String session, boolean dedicate) {
        accepted(core.initiate("agent-1/1", DesktopLifecycle.ANY_VERSION, session, T1, "alice", dedicate, now));
        accepted(core.sessionStarted("agent-1/1", session, now));
    }

    @Test
    void shouldKeepADedicatedDesktopForItsUserAcrossAReset() {
        aliceWorksOnDesktop1("s1", true);
        Accepted ended = accepted(core.endSession("agent-1/1", "s1", now));
        assertThat(ended.actions()).contains(new Launch(0, 2));
        assertThat(core.snapshot(0).getState()).isEqualTo(DesktopState.STARTING);
        assertThat(core.snapshot(0).getUser()).isEqualTo("alice");
        core.onLaunched(0, 2, "127.0.0.1", 5903, now);
        assertThat(core.snapshot(0).getState()).isEqualTo(DesktopState.AVAILABLE);
        assertThat(core.snapshot(0).getUser()).as("reset, and still dedicated").isEqualTo("alice");
        assertThat(core.snapshot(0).getTenant()).isEqualTo(T1);
        assertThat(core.snapshot(0).getSessionId()).isEmpty();

        assertThat(rejection(core.initiate("agent-1/1", "s2", T1, "bob", now))).isEqualTo(Rejection.FAILED_PRECONDITION);
        assertThat(rejection(core.initiate("agent-1/1", "s2", T2, "alice", now)))
                .as("another tenant's alice is another user").isEqualTo(Rejection.FAILED_PRECONDITION);
        assertThat(accepted(core.initiate("agent-1/1", "s3", T1, "alice", now)).desktop().getSessionId()).isEqualTo("s3");
    }

    @Test
    void shouldNotDedicateWithoutAPersistentPoolNorRededicateADedicatedDesktop() {
        aliceWorksOnDesktop1("s1", false);
        accepted(core.endSession("agent-1/1", "s1", now));
        core.onLaunched(0, 2, "127.0.0.1", 5903, now);
        assertThat(core.snapshot(0).getUser()).as("floating: free after the reset").isEmpty();

        aliceWorksOnDesktop1("s2", true);
        accepted(core.endSession("agent-1/1", "s2", now));
        core.onLaunched(0, 3, "127.0.0.1", 5904, now);
        accepted(core.initiate("agent-1/1", DesktopLifecycle.ANY_VERSION, "s3", T1, "alice", true, now));
        assertThat(rejection(core.initiate("agent-1/1", DesktopLifecycle.ANY_VERSION, "s4", T1, "bob", true, now)))
                .isEqualTo(Rejection.FAILED_PRECONDITION);
    }

    @Test
    void shouldHoldTheDesktopDisconnectedForItsUserWhenThePoolKeepsIt() {
        aliceWorksOnDesktop1("s1", false);
        Accepted ended = accepted(core.endSession("agent-1/1", "s1", true, now));
        assertThat(ended.actions()).containsExactly(new ScramblePassword(0));
        assertThat(core.snapshot(0).getState()).isEqualTo(DesktopState.DISCONNECTED);
        assertThat(core.snapshot(0).getUser()).isEqualTo("alice");
        assertThat(core.snapshot(0).getSessionId()).as("the session is over").isEmpty();
        assertThat(accepted(core.endSession("agent-1/1", "s1", true, now)).actions()).as("ending it again: nothing").isEmpty();

        assertThat(rejection(core.initiate("agent-1/1", "s2", T1, "bob", now))).isEqualTo(Rejection.FAILED_PRECONDITION);
        Accepted back = accepted(core.initiate("agent-1/1", "s3", T1, "alice", now));
        assertThat(back.desktop().getState()).isEqualTo(DesktopState.ASSIGNED);
        assertThat(core.snapshot(0).getPort()).as("the same Xvnc: her work is there").isEqualTo(5901);
    }

    @Test
    void shouldResetAKeptDesktopAfterTheDisconnectedRelease() {
        aliceWorksOnDesktop1("s1", false);
        accepted(core.endSession("agent-1/1", "s1", true, now));
        assertThat(core.tick(now + RELEASE - 1)).isEmpty();
        assertThat(core.tick(now + RELEASE)).contains(new Launch(0, 2));
        assertThat(core.snapshot(0).getUser()).isEmpty();
    }

    @Test
    void shouldResetAtLogoutWhenNoSessionEverStartedEvenIfThePoolKeeps() {
        accepted(core.initiate("agent-1/1", "s1", T1, "alice", now));
        Accepted ended = accepted(core.endSession("agent-1/1", "s1", true, now));
        assertThat(ended.actions()).contains(new Launch(0, 2));
    }

    @Test
    void shouldReleaseEveryTieOfARemovedUser() {
        aliceWorksOnDesktop1("s1", true);
        accepted(core.endSession("agent-1/1", "s1", true, now)); // dedicated and kept DISCONNECTED
        accepted(core.initiate("agent-1/2", DesktopLifecycle.ANY_VERSION, "s2", T2, "alice", true, now));

        DesktopLifecycle.Released r = core.releaseUser(T1, "alice", now);
        assertThat(r.desktops()).isEqualTo(1);
        assertThat(r.actions()).containsExactly(new ScramblePassword(0), new Launch(0, 2));
        core.onLaunched(0, 2, "127.0.0.1", 5903, now);
        assertThat(core.snapshot(0).getUser()).as("free after the reset").isEmpty();
        assertThat(core.snapshot(1).getUser()).as("the other tenant's alice keeps hers").isEqualTo("alice");
        assertThat(accepted(core.initiate("agent-1/1", "s3", T1, "bob", now)).desktop().getUser()).isEqualTo("bob");
    }

    @Test
    void shouldFreeADesktopOnlyDedicatedToARemovedUserWithoutAReset() {
        aliceWorksOnDesktop1("s1", true);
        accepted(core.endSession("agent-1/1", "s1", now));
        core.onLaunched(0, 2, "127.0.0.1", 5903, now);
        long version = core.snapshot(0).getVersion();
        DesktopLifecycle.Released r = core.releaseUser(T1, "alice", now);
        assertThat(r.desktops()).isEqualTo(1);
        assertThat(r.actions()).isEmpty();
        assertThat(core.snapshot(0).getState()).isEqualTo(DesktopState.AVAILABLE);
        assertThat(core.snapshot(0).getUser()).isEmpty();
        assertThat(core.snapshot(0).getVersion()).isGreaterThan(version);
        assertThat(core.releaseUser(T1, "alice", now).desktops()).as("idempotent").isZero();
    }

    @Test
    void shouldCapBackoff() {
        assertThat(POLICY.backoffNs(1)).isEqualTo(S);
        assertThat(POLICY.backoffNs(3)).isEqualTo(4 * S);
        assertThat(POLICY.backoffNs(30)).isEqualTo(4 * S);
    }

    private static Accepted accepted(Outcome o) {
        assertThat(o).isInstanceOf(Accepted.class);
        return (Accepted) o;
    }

    private static Rejection rejection(Outcome o) {
        assertThat(o).isInstanceOf(Rejected.class);
        return ((Rejected) o).rejection();
    }

}
