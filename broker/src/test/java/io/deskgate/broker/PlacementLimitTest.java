package io.deskgate.broker;

import static org.assertj.core.api.Assertions.assertThat;

import io.deskgate.broker.Placement.Action;
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
 * {@link Placement} with the per-user limit (the concentrators' {@code held} counts) and a named desktop: the
 * direct broker's behaviour on the sharded path. Pure: a fake clock.
 */
class PlacementLimitTest {
    private static final long MS = 1_000_000L;
    private final RateLimitedLog log = new RateLimitedLog(LoggerFactory.getLogger(PlacementLimitTest.class), 100,
            Duration.ofSeconds(1), () -> 0L);

    private static Offer offer(String id, String concentrator, DesktopState state, String user) {
        return new Offer(id, id.substring(0, id.indexOf('/')), concentrator, state, 1, user, 3);
    }

    private Placement placement(String desktopId, int max) {
        return new Placement(new Placement.Request("s-1", 1, "pool", "ann", AssignmentPolicy.FLOATING, 0, desktopId, max),
                5_000 * MS, 200 * MS, new SetRotation(), log);
    }

    /** Starts on one set of c-1 and c-2 and answers with {@code one} (held {@code h1}) and {@code two} (held {@code h2}). */
    private List<Action> answer(Placement p, List<Offer> one, int h1, List<Offer> two, int h2) {
        p.start(List.of(new ConcentratorSet("a", List.of("c-1", "c-2"), Set.of())), 0);
        assertThat(p.onAnswer("c-1", one, h1, 10 * MS)).isEmpty();
        return p.onAnswer("c-2", two, h2, 20 * MS);
    }

    @Test
    void shouldRefuseWithLimitWhenTheUserHoldsTheMostInOtherPools() {
        List<Action> a = answer(placement("", 2), List.of(offer("x/1", "c-1", DesktopState.AVAILABLE, "")), 1, List.of(), 1);
        assertThat(a).containsExactly(new Failed(Reason.LIMIT, "you already hold 2 desktops in other pools, the most one user"
                + " may hold at once (limit 2); open or end it first"));
    }

    @Test
    void shouldOfferOnlyTheirOwnAtTheLimitAndAnyUnderIt() {
        List<Offer> offers = List.of(offer("x/1", "c-1", DesktopState.AVAILABLE, ""), offer("x/2", "c-1", DesktopState.DISCONNECTED, "ann"));
        assertThat(answer(placement("", 1), offers, 1, List.of(), 0)).as("at the limit: her own")
                .containsExactly(new Initiate(offers.get(1)));
        List<Action> under = answer(placement("", 2), offers, 1, List.of(), 0);
        assertThat(under).as("under it: her own first, still").containsExactly(new Initiate(offers.get(1)));
    }

    @Test
    void shouldPlaceANamedDesktopOnlyIfItIsTheUsersOrFree() {
        Offer free = offer("x/1", "c-1", DesktopState.AVAILABLE, "");
        Offer bobs = offer("x/2", "c-2", DesktopState.IN_USE, "bob");
        Offer anns = offer("x/3", "c-2", DesktopState.DISCONNECTED, "ann");
        assertThat(answer(placement("x/1", 1), List.of(free), 0, List.of(), 0)).containsExactly(new Initiate(free));
        assertThat(answer(placement("x/2", 1), List.of(), 0, List.of(bobs), 0))
                .containsExactly(new Failed(Reason.HELD_BY_ANOTHER, "desktop x/2 is IN_USE"));
        assertThat(answer(placement("x/3", 1), List.of(), 0, List.of(anns), 1)).as("hers, at the limit").containsExactly(new Initiate(anns));
        assertThat(answer(placement("x/1", 1), List.of(free), 1, List.of(), 0)).as("a free one past the limit")
                .containsExactly(new Failed(Reason.LIMIT, "you already hold 1 desktop, the most one user may hold at once"
                        + " (limit 1); open or end it first"));
        assertThat(answer(placement("x/9", 1), List.of(), 0, List.of(), 0))
                .containsExactly(new Failed(Reason.NOT_FOUND, "no desktop x/9 in pool pool"));
    }

    @Test
    void shouldLookForANamedDesktopInTheNextSetWhenAConcentratorDidNotAnswer() {
        Placement p = placement("x/1", 1);
        p.start(List.of(new ConcentratorSet("a", List.of("c-1", "c-2"), Set.of()), new ConcentratorSet("b", List.of("d-1"), Set.of())), 0);
        assertThat(p.onAnswer("c-1", List.of(), 0, 10 * MS)).isEmpty();
        List<Action> next = p.onAnswerFailed("c-2", 20 * MS);
        assertThat(next).hasSize(1).first().isInstanceOf(Placement.Broadcast.class);
        Offer free = offer("x/1", "d-1", DesktopState.AVAILABLE, "");
        assertThat(p.onAnswer("d-1", List.of(free), 0, 30 * MS)).containsExactly(new Initiate(free));
    }

    @Test
    void shouldRefuseALimitOfZeroWithOneClearReason() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> SessionBroker.Settings.DEFAULT.withMaxDesktopsPerUser(0))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("max-desktops-per-user must be 1 to 64: 0");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> BrokerConfig.builder().maxDesktopsPerUser(0).build())
                .isInstanceOf(IllegalArgumentException.class).hasMessage("max-desktops-per-user must be 1 to 64: 0");
    }

    @Test
    void shouldFailAtOnceWhenStartedPastItsDeadline() {
        // A request that waited for its user's turn (UserTurns) past its deadline broadcasts nothing.
        List<Action> a = placement("", 1).start(List.of(new ConcentratorSet("a", List.of("c-1"), Set.of())), 5_000 * MS);
        assertThat(a).singleElement().isInstanceOfSatisfying(Failed.class, f -> assertThat(f.reason()).isEqualTo(Reason.DEADLINE));
    }
}
