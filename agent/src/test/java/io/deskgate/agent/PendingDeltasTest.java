package io.deskgate.agent;

import static org.assertj.core.api.Assertions.assertThat;

import io.deskgate.control.DesktopState;
import io.deskgate.control.DesktopStatus;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link PendingDeltas}: the changes a report stream has not been sent yet (pure, no clock). */
class PendingDeltasTest {
    private static DesktopStatus status(int n, DesktopState state, long version) {
        return DesktopStatus.newBuilder().setDesktopId("agent-1/" + n).setState(state).setTenant(1).setPool("default")
                .setVersion(version).build();
    }

    private static List<String> ids(List<DesktopStatus> delta) {
        return delta.stream().map(d -> d.getDesktopId() + "@" + d.getVersion()).toList();
    }

    @Test
    void shouldJoinTheChangesOfSeveralDesktopsIntoOneDeltaWhenDrained() {
        PendingDeltas p = new PendingDeltas();
        assertThat(p.add(List.of(status(1, DesktopState.ASSIGNED, 3)))).isEmpty();
        assertThat(p.add(List.of(status(2, DesktopState.ASSIGNED, 5)))).isEmpty();

        assertThat(ids(p.drain(false))).containsExactly("agent-1/1@3", "agent-1/2@5");
        assertThat(p.isEmpty()).isTrue();
        assertThat(p.drain(false)).isEmpty();
    }

    @Test
    void shouldSendTheWaitingDeltaFirstWhenADesktopChangesAgainSoNoStepIsMerged() {
        PendingDeltas p = new PendingDeltas();
        p.add(List.of(status(1, DesktopState.ASSIGNED, 3), status(2, DesktopState.AVAILABLE, 4)));

        List<List<DesktopStatus>> now = p.add(List.of(status(1, DesktopState.IN_USE, 4)));

        assertThat(now).hasSize(1);
        assertThat(ids(now.getFirst())).containsExactly("agent-1/1@3", "agent-1/2@4");
        assertThat(ids(p.take())).as("the second step waits on its own").containsExactly("agent-1/1@4");
    }

    @Test
    void shouldLeaveTheDeltaToTheAnswerWhileOneIsDue() {
        PendingDeltas p = new PendingDeltas();
        p.add(List.of(status(1, DesktopState.ASSIGNED, 3)));

        assertThat(p.drain(true)).as("an answer due takes it").isEmpty();
        assertThat(p.isEmpty()).isFalse();
        assertThat(ids(p.take())).containsExactly("agent-1/1@3");
    }

    @Test
    void shouldSendEveryMaxDesktopsAtOnce() {
        PendingDeltas p = new PendingDeltas();
        List<DesktopStatus> many = new ArrayList<>();
        for (int n = 1; n <= PendingDeltas.MAX * 2 + 3; n++) many.add(status(n, DesktopState.STARTING, 1));

        List<List<DesktopStatus>> now = p.add(many);

        assertThat(now).hasSize(2).allSatisfy(d -> assertThat(d).hasSize(PendingDeltas.MAX));
        assertThat(now.get(1).getFirst().getDesktopId()).isEqualTo("agent-1/" + (PendingDeltas.MAX + 1));
        assertThat(p.take()).hasSize(3);
    }
}
