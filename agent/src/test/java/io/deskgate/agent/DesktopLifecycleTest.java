package io.deskgate.agent;

import static org.assertj.core.api.Assertions.assertThat;

import io.deskgate.agent.DesktopLifecycle.Accepted;
import io.deskgate.agent.DesktopLifecycle.IssuePassword;
import io.deskgate.agent.DesktopLifecycle.Launch;
import io.deskgate.agent.DesktopLifecycle.Outcome;
import io.deskgate.agent.DesktopLifecycle.Rejected;
import io.deskgate.agent.DesktopLifecycle.Rejection;
import io.deskgate.agent.DesktopLifecycle.RestartPolicy;
import io.deskgate.agent.DesktopLifecycle.ScramblePassword;
import io.deskgate.control.DesktopState;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class DesktopLifecycleTest {
    private static final long S = 1_000_000_000L;
    private static final long TTL = 60 * S;
    private static final long RELEASE = 7_200 * S;
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
        Accepted a = accepted(core.initiate("agent-1/1", "s1", "alice", now));
        assertThat(a.actions()).containsExactly(new IssuePassword(0));
        assertThat(a.desktop().getState()).isEqualTo(DesktopState.ASSIGNED);
        assertThat(a.desktop().getUser()).isEqualTo("alice");
        assertThat(a.desktop().getSessionId()).isEqualTo("s1");
    }

    @Test
    void shouldRejectUnknownDesktopAsNotFound() {
        assertThat(rejection(core.initiate("agent-1/3", "s1", "alice", now))).isEqualTo(Rejection.NOT_FOUND);
        assertThat(rejection(core.initiate("agent-2/1", "s1", "alice", now))).isEqualTo(Rejection.NOT_FOUND);
        assertThat(rejection(core.initiate("agent-1/0", "s1", "alice", now))).isEqualTo(Rejection.NOT_FOUND);
        assertThat(rejection(core.initiate("agent-1/x", "s1", "alice", now))).isEqualTo(Rejection.NOT_FOUND);
        assertThat(rejection(core.sessionStarted("nope", "s1", now))).isEqualTo(Rejection.NOT_FOUND);
        assertThat(rejection(core.endSession("agent-1/9", "s1", now))).isEqualTo(Rejection.NOT_FOUND);
    }

    @Test
    void shouldRejectMissingSessionOrUser() {
        assertThat(rejection(core.initiate("agent-1/1", "", "alice", now))).isEqualTo(Rejection.INVALID_ARGUMENT);
        assertThat(rejection(core.initiate("agent-1/1", "s1", " ", now))).isEqualTo(Rejection.INVALID_ARGUMENT);
    }

    @Test
    void shouldRefuseDesktopHeldByAnotherUser() {
        accepted(core.initiate("agent-1/1", "s1", "alice", now));
        assertThat(rejection(core.initiate("agent-1/1", "s2", "bob", now))).isEqualTo(Rejection.FAILED_PRECONDITION);
        accepted(core.sessionStarted("agent-1/1", "s1", now));
        assertThat(rejection(core.initiate("agent-1/1", "s2", "bob", now))).isEqualTo(Rejection.FAILED_PRECONDITION);
    }

    @Test
    void shouldRefuseDesktopThatIsStartingOrUnhealthy() {
        accepted(core.initiate("agent-1/1", "s1", "alice", now));
        accepted(core.endSession("agent-1/1", "s1", now));
        assertThat(core.state(0)).isEqualTo(DesktopState.STARTING);
        assertThat(rejection(core.initiate("agent-1/1", "s2", "alice", now))).isEqualTo(Rejection.FAILED_PRECONDITION);
        core.onExited(1, 1, now);
        assertThat(rejection(core.initiate("agent-1/2", "s2", "alice", now))).isEqualTo(Rejection.FAILED_PRECONDITION);
    }

    @Test
    void shouldSpendThePasswordWhenTheSessionStarts() {
        accepted(core.initiate("agent-1/1", "s1", "alice", now));
        Accepted started = accepted(core.sessionStarted("agent-1/1", "s1", now + S));
        assertThat(started.actions()).containsExactly(new ScramblePassword(0));
        assertThat(started.desktop().getState()).isEqualTo(DesktopState.IN_USE);
        assertThat(accepted(core.sessionStarted("agent-1/1", "s1", now + S)).actions()).as("repeat").isEmpty();
        assertThat(core.tick(now + 2 * TTL)).as("no expiry left once spent").isEmpty();
    }

    @Test
    void shouldRejectSessionStartedForAnotherSession() {
        accepted(core.initiate("agent-1/1", "s1", "alice", now));
        assertThat(rejection(core.sessionStarted("agent-1/1", "s2", now))).isEqualTo(Rejection.FAILED_PRECONDITION);
        assertThat(rejection(core.sessionStarted("agent-1/2", "s1", now))).isEqualTo(Rejection.FAILED_PRECONDITION);
    }

    @Test
    void shouldExpireUnusedPasswordAndFreeTheDesktop() {
        accepted(core.initiate("agent-1/1", "s1", "alice", now));
        assertThat(core.nextDeadlineNs()).contains(now + TTL);
        assertThat(core.tick(now + TTL - 1)).isEmpty();
        assertThat(core.tick(now + TTL)).containsExactly(new ScramblePassword(0));
        assertThat(core.snapshot(0).getState()).isEqualTo(DesktopState.AVAILABLE);
        assertThat(core.snapshot(0).getUser()).isEmpty();
        assertThat(core.nextDeadlineNs()).isEmpty();
    }

    @Test
    void shouldTreatSameUserAsReconnectWithNewPassword() {
        accepted(core.initiate("agent-1/1", "s1", "alice", now));
        accepted(core.sessionStarted("agent-1/1", "s1", now));
        core.onViewerCount(0, 0, now + S);
        assertThat(core.state(0)).isEqualTo(DesktopState.DISCONNECTED);

        Accepted again = accepted(core.initiate("agent-1/1", "s2", "alice", now + 2 * S));
        assertThat(again.actions()).containsExactly(new IssuePassword(0));
        assertThat(again.desktop().getState()).isEqualTo(DesktopState.ASSIGNED);
        assertThat(again.desktop().getSessionId()).isEqualTo("s2");

        // Unused reconnect password: the desktop keeps the user's work, so it goes back to DISCONNECTED.
        assertThat(core.tick(now + 2 * S + TTL)).containsExactly(new ScramblePassword(0));
        assertThat(core.snapshot(0).getState()).isEqualTo(DesktopState.DISCONNECTED);
        assertThat(core.snapshot(0).getUser()).isEqualTo("alice");
    }

    @Test
    void shouldReleaseADesktopLeftDisconnectedForTheReleaseTimeLikeALogout() {
        accepted(core.initiate("agent-1/1", "s1", "alice", now));
        accepted(core.sessionStarted("agent-1/1", "s1", now));
        long left = now + 5 * S;
        core.onViewerCount(0, 0, left);
        assertThat(core.state(0)).isEqualTo(DesktopState.DISCONNECTED);
        assertThat(core.nextDeadlineNs()).contains(left + RELEASE);

        assertThat(core.tick(left + RELEASE - 1)).isEmpty();
        assertThat(core.snapshot(0).getUser()).as("still alice's, one nanosecond before").isEqualTo("alice");
        assertThat(core.tick(left + RELEASE)).containsExactly(new ScramblePassword(0), new Launch(0, 2));
        assertThat(core.snapshot(0).getState()).isEqualTo(DesktopState.STARTING);
        assertThat(core.snapshot(0).getUser()).isEmpty();
        assertThat(core.snapshot(0).getSessionId()).isEmpty();
        assertThat(core.tick(left + 2 * RELEASE)).as("released once").isEmpty();

        core.onLaunched(0, 2, "127.0.0.1", 5901, left + RELEASE + S);
        assertThat(accepted(core.initiate("agent-1/1", "s2", "bob", left + RELEASE + S)).desktop().getUser())
                .as("back in the pool").isEqualTo("bob");
        assertThat(core.state(1)).as("the other desktop untouched").isEqualTo(DesktopState.AVAILABLE);
    }

    @Test
    void shouldNotReleaseADesktopWhoseUserCameBackAndRestartTheClockOnTheNextDisconnect() {
        accepted(core.initiate("agent-1/1", "s1", "alice", now));
        accepted(core.sessionStarted("agent-1/1", "s1", now));
        core.onViewerCount(0, 0, now + S);
        accepted(core.initiate("agent-1/1", "s2", "alice", now + 10 * S));
        accepted(core.sessionStarted("agent-1/1", "s2", now + 11 * S));
        core.onViewerCount(0, 1, now + 12 * S);
        assertThat(core.tick(now + S + RELEASE)).isEmpty();
        assertThat(core.state(0)).isEqualTo(DesktopState.IN_USE);

        long leftAgain = now + 3 * RELEASE;
        core.onViewerCount(0, 0, leftAgain);
        assertThat(core.tick(leftAgain + RELEASE - S)).isEmpty();
        assertThat(core.tick(leftAgain + RELEASE)).contains(new Launch(0, 2));
    }

    @Test
    void shouldReleaseADesktopWhoseReconnectWasNeverUsed() {
        accepted(core.initiate("agent-1/1", "s1", "alice", now));
        accepted(core.sessionStarted("agent-1/1", "s1", now));
        accepted(core.initiate("agent-1/1", "s2", "alice", now + S)); // a reconnect whose engine never came
        assertThat(core.tick(now + S + TTL)).containsExactly(new ScramblePassword(0));
        assertThat(core.state(0)).isEqualTo(DesktopState.DISCONNECTED);
        assertThat(core.nextDeadlineNs()).contains(now + S + TTL + RELEASE);
        assertThat(core.tick(now + S + TTL + RELEASE)).containsExactly(new ScramblePassword(0), new Launch(0, 2));
    }

    @Test
    void shouldKeepInUseWhileAViewerIsConnected() {
        accepted(core.initiate("agent-1/1", "s1", "alice", now));
        accepted(core.sessionStarted("agent-1/1", "s1", now));
        core.onViewerCount(0, 1, now + S);
        assertThat(core.state(0)).isEqualTo(DesktopState.IN_USE);
    }

    @Test
    void shouldResetDesktopWhenTheSessionEnds() {
        accepted(core.initiate("agent-1/1", "s1", "alice", now));
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
        accepted(core.initiate("agent-1/1", "s1", "alice", now));
        assertThat(rejection(core.endSession("agent-1/1", "s9", now))).isEqualTo(Rejection.FAILED_PRECONDITION);
        assertThat(accepted(core.endSession("agent-1/2", "s1", now)).actions()).isEmpty();
        assertThat(core.state(1)).isEqualTo(DesktopState.AVAILABLE);
    }

    @Test
    void shouldRestartDeadXvncWithExponentialBackoff() {
        accepted(core.initiate("agent-1/1", "s1", "alice", now));
        core.onExited(0, 1, now);
        assertThat(core.snapshot(0).getState()).isEqualTo(DesktopState.UNHEALTHY);
        assertThat(core.snapshot(0).getUser()).as("the session died with Xvnc").isEmpty();
        assertThat(core.tick(now + S - 1)).isEmpty();
        assertThat(core.tick(now + S)).containsExactly(new Launch(0, 2));
        assertThat(core.state(0)).isEqualTo(DesktopState.STARTING);

        long t = now + S;
        core.onLaunchFailed(0, 2, t);
        assertThat(core.tick(t + 2 * S - 1)).isEmpty();
        assertThat(core.tick(t + 2 * S)).containsExactly(new Launch(0, 3));
        t += 2 * S;
        core.onLaunchFailed(0, 3, t);
        assertThat(core.tick(t + 4 * S)).containsExactly(new Launch(0, 4));
        t += 4 * S;
        core.onLaunchFailed(0, 4, t);
        assertThat(core.gaveUp(0)).as("more than 3 failures in a row").isTrue();
        assertThat(core.tick(t + 3600 * S)).isEmpty();
        assertThat(core.state(0)).isEqualTo(DesktopState.UNHEALTHY);
    }

    @Test
    void shouldForgetOldFailuresAfterRunningStably() {
        core.onExited(0, 1, now);
        core.tick(now + S);
        core.onLaunched(0, 2, "127.0.0.1", 5901, now + S);
        core.onExited(0, 2, now + 2 * S);
        assertThat(core.nextDeadlineNs()).as("second failure in a row: 2 s").contains(now + 4 * S);
        core.tick(now + 4 * S);
        core.onLaunched(0, 3, "127.0.0.1", 5901, now + 4 * S);
        long later = now + 4 * S + POLICY.stableAfterNs();
        core.onExited(0, 3, later);
        assertThat(core.nextDeadlineNs()).as("counted afresh: 1 s").contains(later + S);
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
