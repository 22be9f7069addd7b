package io.deskgate.broker;

import static org.assertj.core.api.Assertions.assertThat;

import io.deskgate.broker.DesktopChooser.Candidates;
import io.deskgate.broker.DesktopChooser.Choice;
import io.deskgate.broker.DesktopChooser.Refusal;
import io.deskgate.broker.DesktopChooser.Refused;
import io.deskgate.control.Desktop;
import io.deskgate.control.DesktopState;
import java.util.List;
import org.junit.jupiter.api.Test;

class DesktopChooserTest {
    /** The tenant of the users in these tests; {@link #T2} is another tenant that also has an "alice". */
    static final int T1 = 1;
    static final int T2 = 2;

    /** A desktop of {@code user} of tenant {@link #T1} (none when empty). */
    static Desktop desktop(String id, DesktopState state, String user) {
        return desktop(id, state, user.isEmpty() ? 0 : T1, user);
    }

    static Desktop desktop(String id, DesktopState state, int tenant, String user) {
        return Desktop.newBuilder().setDesktopId(id).setState(state).setTenant(tenant).setUser(user)
                .setSessionId(user.isEmpty() ? "" : "s-" + user).setHost("127.0.0.1").setPort(5900).build();
    }

    private static List<String> ids(Choice c) {
        assertThat(c).isInstanceOf(Candidates.class);
        return ((Candidates) c).inOrder().stream().map(Desktop::getDesktopId).toList();
    }

    private static Refusal refusal(Choice c) {
        assertThat(c).isInstanceOf(Refused.class);
        return ((Refused) c).refusal();
    }

    @Test
    void shouldGiveAUserOfAPersistentPoolOnlyTheDesktopDedicatedToThem() {
        List<Desktop> all = List.of(
                desktop("a/1", DesktopState.AVAILABLE, ""),
                desktop("a/2", DesktopState.AVAILABLE, "alice"),
                desktop("a/3", DesktopState.AVAILABLE, T2, "alice"),
                desktop("a/4", DesktopState.AVAILABLE, "bob"));
        assertThat(ids(DesktopChooser.choose(all, T1, "alice", "", 64, true))).containsExactly("a/2");
        assertThat(ids(DesktopChooser.choose(all, T2, "alice", "", 64, true))).containsExactly("a/3");
        assertThat(ids(DesktopChooser.choose(all, T1, "carol", "", 64, true))).as("a new user: a free one only")
                .containsExactly("a/1");
        assertThat(ids(DesktopChooser.choose(all, T1, "alice", "", 64, false))).as("floating: hers first, then free")
                .containsExactly("a/2", "a/1");
        assertThat(ids(DesktopChooser.choose(all, T1, "carol", "", 64, false))).as("never another's dedicated desktop")
                .containsExactly("a/1");
    }

    @Test
    void shouldRefuseAnotherDesktopToAUserOfAPersistentPoolWhoHasOne() {
        List<Desktop> all = List.of(desktop("a/1", DesktopState.AVAILABLE, ""), desktop("a/2", DesktopState.STARTING, "alice"),
                desktop("a/3", DesktopState.AVAILABLE, "bob"));
        assertThat(refusal(DesktopChooser.choose(all, T1, "alice", "", 64, true))).as("hers is resetting")
                .isEqualTo(Refusal.NONE_AVAILABLE);
        assertThat(refusal(DesktopChooser.choose(all, T1, "alice", "a/1", 64, true))).isEqualTo(Refusal.PERSISTENT_ELSEWHERE);
        assertThat(refusal(DesktopChooser.choose(all, T1, "alice", "a/3", 64, false))).isEqualTo(Refusal.HELD_BY_ANOTHER);
        assertThat(ids(DesktopChooser.choose(all, T1, "bob", "a/3", 64, true))).containsExactly("a/3");
    }

    @Test
    void shouldNotCountADedicatedDesktopAgainstThePerUserLimit() {
        List<Desktop> all = List.of(desktop("a/1", DesktopState.AVAILABLE, "alice"), desktop("a/2", DesktopState.AVAILABLE, ""));
        assertThat(ids(DesktopChooser.choose(all, T1, "alice", "", 1, false))).containsExactly("a/1", "a/2");
    }

    @Test
    void shouldPreferTheUsersOwnDesktopForAReconnect() {
        List<Desktop> all = List.of(
                desktop("a/1", DesktopState.AVAILABLE, ""),
                desktop("b/1", DesktopState.IN_USE, "bob"),
                desktop("b/2", DesktopState.DISCONNECTED, "alice"),
                desktop("a/2", DesktopState.ASSIGNED, "alice"));
        assertThat(ids(DesktopChooser.choose(all, T1, "alice", "", 64))).containsExactly("b/2", "a/2", "a/1");
        assertThat(ids(DesktopChooser.choose(all, T1, "carol", "", 64))).containsExactly("a/1");
    }

    @Test
    void shouldNeverOfferOneTenantsUserAnotherTenantsDesktopOfTheSameName() {
        List<Desktop> all = List.of(
                desktop("a/1", DesktopState.AVAILABLE, ""),
                desktop("b/1", DesktopState.DISCONNECTED, T1, "alice"),
                desktop("b/2", DesktopState.IN_USE, T1, "alice"));
        assertThat(ids(DesktopChooser.choose(all, T2, "alice", "", 1))).as("tenant 2's alice: a fresh desktop only")
                .containsExactly("a/1");
        assertThat(refusal(DesktopChooser.choose(all, T2, "alice", "b/1", 1))).as("naming tenant 1's desktop")
                .isEqualTo(Refusal.HELD_BY_ANOTHER);
        assertThat(ids(DesktopChooser.choose(all, T1, "alice", "", 2))).containsExactly("b/1", "b/2");
        assertThat(DesktopChooser.ownedBy(all.get(1), T2, "alice")).isFalse();
        assertThat(DesktopChooser.ownedBy(all.get(1), T1, "alice")).isTrue();
    }

    @Test
    void shouldSpreadNewSessionsToTheAgentWithMostFreeDesktops() {
        List<Desktop> all = List.of(
                desktop("a/1", DesktopState.AVAILABLE, ""),
                desktop("b/1", DesktopState.AVAILABLE, ""),
                desktop("b/2", DesktopState.AVAILABLE, ""),
                desktop("a/2", DesktopState.STARTING, ""),
                desktop("a/3", DesktopState.UNHEALTHY, ""));
        assertThat(ids(DesktopChooser.choose(all, T1, "alice", "", 64))).containsExactly("b/1", "b/2", "a/1");
    }

    @Test
    void shouldRefuseWhenNoDesktopIsFree() {
        List<Desktop> all = List.of(
                desktop("a/1", DesktopState.IN_USE, "bob"),
                desktop("a/2", DesktopState.STARTING, ""),
                desktop("a/3", DesktopState.UNHEALTHY, ""));
        assertThat(refusal(DesktopChooser.choose(all, T1, "alice", "", 64))).isEqualTo(Refusal.NONE_AVAILABLE);
        assertThat(refusal(DesktopChooser.choose(List.of(), T1, "alice", "", 64))).isEqualTo(Refusal.NONE_AVAILABLE);
    }

    @Test
    void shouldHonourARequestedDesktop() {
        List<Desktop> all = List.of(
                desktop("a/1", DesktopState.AVAILABLE, ""),
                desktop("a/2", DesktopState.IN_USE, "bob"),
                desktop("a/3", DesktopState.DISCONNECTED, "alice"));
        assertThat(ids(DesktopChooser.choose(all, T1, "alice", "a/1", 64))).containsExactly("a/1");
        assertThat(ids(DesktopChooser.choose(all, T1, "alice", "a/3", 64))).containsExactly("a/3");
        assertThat(refusal(DesktopChooser.choose(all, T1, "alice", "a/2", 64))).isEqualTo(Refusal.HELD_BY_ANOTHER);
        assertThat(refusal(DesktopChooser.choose(all, T1, "alice", "z/9", 64))).isEqualTo(Refusal.NOT_FOUND);
    }

    @Test
    void shouldGiveAUserAtTheLimitOnlyTheirOwnDesktopsAndRefuseAnotherNamingTheLimit() {
        List<Desktop> all = List.of(
                desktop("a/1", DesktopState.AVAILABLE, ""),
                desktop("a/2", DesktopState.DISCONNECTED, "alice"),
                desktop("a/3", DesktopState.AVAILABLE, ""));
        assertThat(ids(DesktopChooser.choose(all, T1, "alice", "", 1))).as("own desktop back, no new one").containsExactly("a/2");
        assertThat(ids(DesktopChooser.choose(all, T1, "alice", "a/2", 1))).containsExactly("a/2");
        Choice another = DesktopChooser.choose(all, T1, "alice", "a/1", 1);
        assertThat(refusal(another)).isEqualTo(Refusal.LIMIT_REACHED);
        assertThat(((Refused) another).message()).contains("limit 1").contains("1 desktop");
        assertThat(ids(DesktopChooser.choose(all, T1, "alice", "a/1", 2))).as("under a limit of 2").containsExactly("a/1");
        assertThat(ids(DesktopChooser.choose(all, T1, "alice", "", 2))).containsExactly("a/2", "a/1", "a/3");
        assertThat(ids(DesktopChooser.choose(all, T1, "bob", "", 1))).as("others unaffected").containsExactly("a/1", "a/3");
    }

    @Test
    void shouldCountAssignedInUseAndDisconnectedDesktopsAgainstTheLimit() {
        List<Desktop> all = List.of(
                desktop("a/1", DesktopState.ASSIGNED, "alice"),
                desktop("a/2", DesktopState.IN_USE, "alice"),
                desktop("a/3", DesktopState.DISCONNECTED, "alice"),
                desktop("a/4", DesktopState.AVAILABLE, ""));
        assertThat(refusal(DesktopChooser.choose(all, T1, "alice", "a/4", 3))).isEqualTo(Refusal.LIMIT_REACHED);
        assertThat(ids(DesktopChooser.choose(all, T1, "alice", "", 3))).containsExactly("a/3", "a/2", "a/1");
        assertThat(ids(DesktopChooser.choose(all, T1, "alice", "a/4", 4))).containsExactly("a/4");
    }

    @Test
    void shouldNameTheAgentOfADesktopId() {
        assertThat(DesktopChooser.agentOf("agent-1/3")).isEqualTo("agent-1");
        assertThat(DesktopChooser.agentOf("site/agent-1/3")).isEqualTo("site/agent-1");
        assertThat(DesktopChooser.agentOf("noslash")).isEmpty();
        assertThat(DesktopChooser.agentOf("/1")).isEmpty();
    }
}
