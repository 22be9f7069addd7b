package io.deskgate.broker;

import static org.assertj.core.api.Assertions.assertThat;

import io.deskgate.broker.PlacementChoice.AssignmentPolicy;
import io.deskgate.control.DesktopState;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** {@link PlacementChoice}: the steps the scenarios (testdata/placement) do not spell out. */
class PlacementChoiceTest {
    private static Offer free(String id, String concentrator) {
        return new Offer(id, id.substring(0, id.indexOf('/')), concentrator, DesktopState.AVAILABLE, 1, "", 1);
    }

    @Test
    void shouldGiveConcurrentRequestsDifferentFirstChoicesSoTheyRarelyRace() {
        List<Offer> merged = new ArrayList<>();
        for (int n = 1; n <= 10; n++) merged.add(free("ag" + (n % 3) + "/" + n, "c" + (n % 2)));
        Set<String> firsts = new HashSet<>();
        for (int spread = 0; spread < merged.size(); spread++) {
            List<Offer> order = PlacementChoice.order(merged, 1, "u" + spread, AssignmentPolicy.FLOATING, spread);
            assertThat(order).hasSize(10).doesNotHaveDuplicates();
            firsts.add(order.getFirst().desktopId());
        }
        assertThat(firsts).as("ten requests, ten different first choices: the whole free list is spread").hasSize(10);
    }

    @Test
    void shouldPreferTheAgentWithTheMostFreeDesktopsWithinARound() {
        List<Offer> merged = List.of(free("small/1", "c1"), free("big/1", "c2"), free("big/2", "c1"), free("big/3", "c2"));
        List<Offer> order = PlacementChoice.order(merged, 1, "", AssignmentPolicy.FLOATING, 0);
        assertThat(order).extracting(Offer::desktopId).containsExactly("big/1", "small/1", "big/2", "big/3");
    }

    @Test
    void shouldNeverOfferAnotherTenantsOrAnotherUsersDesktop() {
        List<Offer> merged = List.of(new Offer("a/1", "a", "c", DesktopState.AVAILABLE, 2, "", 1),
                new Offer("a/2", "a", "c", DesktopState.DISCONNECTED, 1, "bob", 1),
                new Offer("a/3", "a", "c", DesktopState.DISCONNECTED, 2, "alice", 1));
        assertThat(PlacementChoice.order(merged, 1, "alice", AssignmentPolicy.FLOATING, 0)).isEmpty();
    }
}
