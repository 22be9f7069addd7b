package io.deskgate.broker;

import static org.assertj.core.api.Assertions.assertThat;

import io.deskgate.broker.Placement.Action;
import io.deskgate.broker.Placement.Broadcast;
import io.deskgate.broker.Placement.Failed;
import io.deskgate.broker.Placement.Initiate;
import io.deskgate.broker.Placement.Reason;
import io.deskgate.broker.PlacementChoice.AssignmentPolicy;
import io.deskgate.common.RateLimitedLog;
import io.deskgate.control.DesktopState;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * {@link AvailableMerge} and {@link Placement} when no member of a set answers by the answer deadline: the first
 * answer is still waited for, up to the request's deadline (seed 001: a list "from at least one agent
 * concentrator"; docs/architecture.md, "Concentrator sets"). Pure: a fake clock.
 */
class PlacementFirstAnswerTest {
    private static final long MS = 1_000_000L;
    private final RateLimitedLog log = new RateLimitedLog(LoggerFactory.getLogger(PlacementFirstAnswerTest.class), 100,
            Duration.ofSeconds(1), () -> 0L);

    private static Offer free(String id, String concentrator) {
        return new Offer(id, id.substring(0, id.indexOf('/')), concentrator, DesktopState.AVAILABLE, 1, "", 3);
    }

    /** Request deadline 5 s, answer timeout 200 ms, one set of c-1 and c-2 (and a second set b of c-3 when asked). */
    private Placement placement() {
        return new Placement(new Placement.Request("s-1", 1, "pool", "ann", AssignmentPolicy.FLOATING, 0),
                5_000 * MS, 200 * MS, new SetRotation(), log);
    }

    @Test
    void mergeShouldWaitPastTheAnswerDeadlineForTheFirstAnswerWhenNoneCame() {
        AvailableMerge m = new AvailableMerge(List.of("c-1", "c-2"), 200 * MS, 5_000 * MS);
        assertThat(m.deadlineNs()).isEqualTo(200 * MS);
        assertThat(m.due(200 * MS)).as("no answer yet: not due at the answer deadline").isFalse();
        assertThat(m.deadlineNs()).as("then the request's deadline").isEqualTo(5_000 * MS);

        assertThat(m.onAnswer("c-2", List.of(free("x/1", "c-2")), 900 * MS)).isEqualTo(AvailableMerge.Answer.TAKEN);
        assertThat(m.due(900 * MS)).as("the first answer, merged at once").isTrue();
        assertThat(m.merge()).extracting(Offer::desktopId).containsExactly("x/1");
        assertThat(m.missing()).containsExactly("c-1");
    }

    @Test
    void mergeShouldRefuseASecondLateAnswerAndGiveUpAtTheLastDeadline() {
        AvailableMerge m = new AvailableMerge(List.of("c-1", "c-2"), 200 * MS, 5_000 * MS);
        assertThat(m.onAnswer("c-1", List.of(), 100 * MS)).isEqualTo(AvailableMerge.Answer.TAKEN);
        assertThat(m.due(200 * MS)).as("one answered: due at the answer deadline, as before").isTrue();
        assertThat(m.onAnswer("c-2", List.of(), 300 * MS)).isEqualTo(AvailableMerge.Answer.LATE);

        AvailableMerge silent = new AvailableMerge(List.of("c-1"), 200 * MS, 5_000 * MS);
        assertThat(silent.due(4_999 * MS)).isFalse();
        assertThat(silent.due(5_000 * MS)).isTrue();
        assertThat(silent.onAnswer("c-1", List.of(), 5_000 * MS)).isEqualTo(AvailableMerge.Answer.LATE);
    }

    @Test
    void mergeWithoutALastDeadlineShouldBeDueAtTheAnswerDeadlineAsBefore() {
        AvailableMerge m = new AvailableMerge(List.of("c-1"), 200 * MS);
        assertThat(m.due(200 * MS)).isTrue();
        assertThat(m.onAnswer("c-1", List.of(), 200 * MS)).isEqualTo(AvailableMerge.Answer.LATE);
    }

    @Test
    void shouldInitiateTheFirstOfferThatComesAfterTheAnswerDeadlineWhenNoMemberAnsweredInTime() {
        Placement p = placement();
        List<Action> start = p.start(List.of(new ConcentratorSet("a", List.of("c-1", "c-2"), Set.of())), 0);
        assertThat(start).containsExactly(new Broadcast("a", List.of("c-1", "c-2"), 200 * MS, 5_000 * MS));
        assertThat(p.nextDeadlineNs()).isEqualTo(200 * MS);
        assertThat(p.tick(200 * MS)).as("nobody answered: it keeps waiting, rather than give up the set").isEmpty();
        assertThat(p.nextDeadlineNs()).isEqualTo(5_000 * MS);

        List<Action> a = p.onAnswer("c-1", List.of(free("x/1", "c-1")), 0, 1_500 * MS);
        assertThat(a).containsExactly(new Initiate(free("x/1", "c-1")));
        assertThat(p.onAnswer("c-2", List.of(free("y/1", "c-2")), 0, 1_600 * MS)).as("after the merge: ignored").isEmpty();
    }

    @Test
    void shouldFailAtTheRequestsDeadlineWhenNoMemberEverAnswers() {
        Placement p = placement();
        p.start(List.of(new ConcentratorSet("a", List.of("c-1"), Set.of())), 0);
        assertThat(p.tick(200 * MS)).isEmpty();
        List<Action> end = p.tick(5_000 * MS);
        assertThat(end).hasSize(1);
        assertThat(((Failed) end.getFirst()).reason()).isEqualTo(Reason.DEADLINE);
    }

    @Test
    void shouldMoveToTheNextSetAtOnceWhenEveryMemberFailed() {
        Placement p = placement();
        p.start(List.of(new ConcentratorSet("a", List.of("c-1"), Set.of()), new ConcentratorSet("b", List.of("c-3"), Set.of())), 0);
        List<Action> next = p.onAnswerFailed("c-1", 10 * MS);
        assertThat(next).containsExactly(new Broadcast("b", List.of("c-3"), 210 * MS, 5_000 * MS));
    }
}
