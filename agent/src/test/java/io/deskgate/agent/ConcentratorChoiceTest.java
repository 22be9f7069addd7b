package io.deskgate.agent;

import static org.assertj.core.api.Assertions.assertThat;

import io.deskgate.agent.ConcentratorChoice.Concentrator;
import io.deskgate.agent.ConcentratorChoice.Connect;
import io.deskgate.agent.ConcentratorChoice.Disconnect;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@link ConcentratorChoice} on a fake clock (issue 8 item 4: an agent selects one concentrator of every set, re-homes). */
class ConcentratorChoiceTest {
    private static final long S = 1_000_000_000L;
    private static final long T0 = 7_000 * S;
    private static final Duration TIMEOUT = Duration.ofSeconds(15);

    private static ConcentratorChoice choice(String agent) {
        return new ConcentratorChoice(agent, TIMEOUT, Duration.ofSeconds(30));
    }

    @Test
    void shouldChooseTheLeastLoadedOfEverySetAndNeverTwoOfOne() {
        ConcentratorChoice c = choice("agent-1");
        var actions = c.onRegistry(List.of(new Concentrator("a1", "A", 30, T0), new Concentrator("a2", "A", 10, T0),
                new Concentrator("b1", "B", 5, T0), new Concentrator("b2", "B", 50, T0)), T0);
        assertThat(actions).containsExactly(new Connect("A", "a2"), new Connect("B", "b1"));
        assertThat(c.choices()).isEqualTo(Map.of("A", "a2", "B", "b1"));
    }

    @Test
    void shouldStayWithItsChoiceWhileItLivesEvenWhenAnotherIsLighter() {
        ConcentratorChoice c = choice("agent-1");
        c.onRegistry(List.of(new Concentrator("a1", "A", 10, T0), new Concentrator("a2", "A", 20, T0)), T0);
        var later = c.onRegistry(List.of(new Concentrator("a1", "A", 90, T0 + 5 * S), new Concentrator("a2", "A", 0, T0 + 5 * S)),
                T0 + 5 * S);
        assertThat(later).isEmpty();
        assertThat(c.chosen("A")).contains("a1");
    }

    @Test
    void shouldReHomeWithinTheHeartbeatTimeoutWhenItsConcentratorStopsHeartbeating() {
        ConcentratorChoice c = choice("agent-1");
        c.onRegistry(List.of(new Concentrator("a1", "A", 1, T0), new Concentrator("a2", "A", 2, T0)), T0);
        // a1 stops heartbeating at T0: its row stays in the registry with its last heartbeat
        long justBefore = T0 + TIMEOUT.toNanos() - 1;
        assertThat(c.onRegistry(List.of(new Concentrator("a1", "A", 1, T0), new Concentrator("a2", "A", 2, justBefore)),
                justBefore)).isEmpty();
        long at = T0 + TIMEOUT.toNanos();
        assertThat(c.onRegistry(List.of(new Concentrator("a1", "A", 1, T0), new Concentrator("a2", "A", 2, at)), at))
                .containsExactly(new Disconnect("A", "a1"), new Connect("A", "a2"));
    }

    @Test
    void shouldReHomeAtOnceWhenItsStreamFailsAndAvoidTheFailedOneForAWhile() {
        ConcentratorChoice c = choice("agent-1");
        List<Concentrator> rows = List.of(new Concentrator("a1", "A", 1, T0), new Concentrator("a2", "A", 2, T0),
                new Concentrator("b1", "B", 1, T0));
        c.onRegistry(rows, T0);
        assertThat(c.onStreamFailed("a1", T0 + S)).containsExactly(new Disconnect("A", "a1"), new Connect("A", "a2"));
        assertThat(c.choices()).isEqualTo(Map.of("A", "a2", "B", "b1"));
        // a2 fails too while a1 is still avoided: a1 is the set's only other member, so it is chosen anyway
        assertThat(c.onStreamFailed("a2", T0 + 2 * S)).containsExactly(new Disconnect("A", "a2"), new Connect("A", "a1"));
    }

    @Test
    void shouldDropTheChoiceOfASetThatLeftAndTakeOneWhenASetAppears() {
        ConcentratorChoice c = choice("agent-1");
        c.onRegistry(List.of(new Concentrator("a1", "A", 1, T0)), T0);
        assertThat(c.onRegistry(List.of(new Concentrator("b1", "B", 1, T0 + S)), T0 + S))
                .containsExactly(new Disconnect("A", "a1"), new Connect("B", "b1"));
        assertThat(c.chosen("A")).isEmpty();
    }

    @Test
    void shouldIgnoreBlankRowsAndAnIdListedTwice() {
        ConcentratorChoice c = choice("agent-1");
        var actions = c.onRegistry(List.of(new Concentrator("", "A", 0, T0), new Concentrator("x", "", 0, T0),
                new Concentrator("dup", "A", 0, T0), new Concentrator("dup", "B", 0, T0), new Concentrator("a1", "A", 9, T0)), T0);
        assertThat(actions).containsExactly(new Connect("A", "a1"));
    }

    @Test
    void shouldSpreadAgentsOverEquallyLoadedConcentrators() {
        List<Concentrator> rows = List.of(new Concentrator("a1", "A", 0, T0), new Concentrator("a2", "A", 0, T0),
                new Concentrator("a3", "A", 0, T0), new Concentrator("a4", "A", 0, T0));
        Map<String, Integer> agentsPer = new HashMap<>();
        for (int i = 0; i < 400; i++) {
            ConcentratorChoice c = choice("agent-" + i);
            c.onRegistry(rows, T0);
            agentsPer.merge(c.chosen("A").orElseThrow(), 1, Integer::sum);
        }
        assertThat(agentsPer).hasSize(4);
        assertThat(agentsPer.values()).allMatch(n -> n > 50, "each of 4 gets a fair share of 400 agents");
    }
}
