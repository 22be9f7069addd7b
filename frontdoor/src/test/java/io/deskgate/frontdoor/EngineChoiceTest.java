package io.deskgate.frontdoor;

import static org.assertj.core.api.Assertions.assertThat;

import io.deskgate.frontdoor.Frontdoor.EngineEndpoint;
import io.deskgate.store.Registration;
import io.deskgate.store.RegistryEntry;
import io.deskgate.store.Role;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** The engine choice's pure core (issue 9): capacity-relative least connections, tie-break, drain, launches in flight. */
class EngineChoiceTest {
    private static final Instant T0 = Instant.parse("2026-12-01T00:00:00Z");
    private static final UUID INC_A = UUID.randomUUID();
    private static final UUID INC_B = UUID.randomUUID();

    @Test
    void leastConnectionsRelativeToCapacityComesFirst() {
        // a: 5 of 10 (0.5), b: 30 of 100 (0.3), c: 1 of 1 (full)
        List<RegistryEntry> live = List.of(engine("a", 5, 10, T0), engine("b", 30, 100, T0), engine("c", 1, 1, T0));
        assertThat(ids(EngineSelector.order(live, Set.of(), id -> 0))).containsExactly("b", "a", "c");
    }

    @Test
    void tiesGoToMoreFreeSlotsThenToTheLowerId() {
        // a: 2 of 10 and b: 20 of 100 are both 0.2; b has 80 free slots, a has 8
        assertThat(ids(EngineSelector.order(List.of(engine("a", 2, 10, T0), engine("b", 20, 100, T0)), Set.of(), id -> 0)))
                .containsExactly("b", "a");
        // the same fraction and the same free slots: by id
        assertThat(ids(EngineSelector.order(List.of(engine("y", 3, 10, T0), engine("x", 3, 10, T0)), Set.of(), id -> 0)))
                .containsExactly("x", "y");
    }

    @Test
    void drainedEnginesGetNoNewSessions() {
        List<RegistryEntry> live = List.of(engine("a", 0, 10, T0), engine("b", 9, 10, T0));
        assertThat(ids(EngineSelector.order(live, Set.of("a"), id -> 0))).containsExactly("b");
        assertThat(EngineSelector.order(live, Set.of("a", "b"), id -> 0)).isEmpty();
    }

    @Test
    void launchesInFlightCountOnTopOfThePublishedTally() {
        LaunchesInFlight inFlight = new LaunchesInFlight();
        List<RegistryEntry> live = List.of(engine("a", 0, 10, T0), engine("b", 0, 10, T0));
        // between two heartbeats (the tallies read 0 and 0), successive choices alternate
        StringBuilder picks = new StringBuilder();
        for (int i = 0; i < 6; i++) {
            inFlight.observe(live);
            String first = EngineSelector.order(live, Set.of(), inFlight::count).getFirst().id();
            picks.append(first);
            inFlight.launched(inFlight.begin(first));
        }
        assertThat(picks.toString()).isEqualTo("ababab");
        assertThat(inFlight.count("a")).isEqualTo(3);
        assertThat(inFlight.count("b")).isEqualTo(3);
    }

    @Test
    void aCompletedLaunchCountsUntilAHeartbeatAfterItsCompletionWasSeen() {
        LaunchesInFlight inFlight = new LaunchesInFlight();
        long t = inFlight.begin("a");
        inFlight.observe(List.of(engine("a", 0, 10, T0)));
        assertThat(inFlight.count("a")).as("under way").isEqualTo(1);
        inFlight.observe(List.of(engine("a", 0, 10, T0.plusSeconds(1))));
        assertThat(inFlight.count("a")).as("still under way: a heartbeat during the launch proves nothing").isEqualTo(1);
        inFlight.launched(t);
        inFlight.observe(List.of(engine("a", 0, 10, T0.plusSeconds(1))));
        assertThat(inFlight.count("a")).as("the heartbeat seen first after completion may predate it").isEqualTo(1);
        inFlight.observe(List.of(engine("a", 1, 10, T0.plusSeconds(1))));
        assertThat(inFlight.count("a")).as("the same heartbeat again").isEqualTo(1);
        inFlight.observe(List.of(engine("a", 1, 10, T0.plusSeconds(2))));
        assertThat(inFlight.count("a")).as("a later heartbeat shows it in the tally").isZero();
    }

    @Test
    void failedLaunchesStopCountingAndRestartedOrGoneEnginesDropTheirs() {
        LaunchesInFlight inFlight = new LaunchesInFlight();
        long failed = inFlight.begin("a");
        inFlight.failed(failed);
        assertThat(inFlight.count("a")).isZero();

        long onA = inFlight.begin("a");
        long onB = inFlight.begin("b");
        inFlight.launched(onA);
        inFlight.launched(onB);
        inFlight.observe(List.of(engine("a", 0, 10, T0), engine("b", 0, 10, T0)));
        assertThat(inFlight.size()).isEqualTo(2);
        // a restarted (another incarnation, same heartbeat time); b is gone from the registry
        inFlight.observe(List.of(new RegistryEntry(new Registration(Role.ENGINE, "a", UUID.randomUUID(),
                Map.of(RegistryEntry.GRPC, "127.0.0.1:1"), 10, "test", Map.of()), 0, T0, T0)));
        assertThat(inFlight.size()).isZero();
        // a launch still under way is kept even while its engine is not listed
        inFlight.begin("c");
        inFlight.observe(List.of());
        assertThat(inFlight.count("c")).isEqualTo(1);
    }

    @Test
    void withABackgroundViewOnlyAReadingStartedAfterTheCompletionJudgesALaunch() {
        LaunchesInFlight inFlight = new LaunchesInFlight();
        long t = inFlight.begin("a");
        // reading 5 started before the launch completed (when 5 readings had started); 6 and 7 after
        inFlight.launched(t, 5);
        inFlight.observe(List.of(engine("a", 0, 10, T0)), 5);
        inFlight.observe(List.of(engine("a", 0, 10, T0.plusSeconds(1))), 5);
        assertThat(inFlight.count("a")).as("reading 5 may predate the launch: it marks nothing").isEqualTo(1);
        inFlight.observe(List.of(engine("a", 0, 10, T0.plusSeconds(1))), 6);
        assertThat(inFlight.count("a")).as("reading 6 marks the heartbeat it sees").isEqualTo(1);
        inFlight.observe(List.of(engine("a", 1, 10, T0.plusSeconds(2))), 6);
        assertThat(inFlight.count("a")).as("the same reading again changes nothing").isEqualTo(1);
        inFlight.observe(List.of(engine("a", 1, 10, T0.plusSeconds(2))), 7);
        assertThat(inFlight.count("a")).as("a later heartbeat in a later reading shows it in the tally").isZero();

        // an engine missing from a reading taken before the completion keeps the launch; from a later one, drops it
        long u = inFlight.begin("b");
        inFlight.launched(u, 9);
        inFlight.observe(List.of(), 9);
        assertThat(inFlight.count("b")).isEqualTo(1);
        inFlight.observe(List.of(), 10);
        assertThat(inFlight.count("b")).isZero();
        assertThat(inFlight.size()).isZero();
    }

    private static List<String> ids(List<EngineEndpoint> engines) {
        return engines.stream().map(EngineEndpoint::id).toList();
    }

    private static RegistryEntry engine(String id, int load, int capacity, Instant heartbeat) {
        UUID incarnation = id.equals("a") ? INC_A : id.equals("b") ? INC_B : UUID.nameUUIDFromBytes(id.getBytes());
        return new RegistryEntry(new Registration(Role.ENGINE, id, incarnation, Map.of(RegistryEntry.GRPC, "127.0.0.1:1"),
                capacity, "test", Map.of()), load, T0, heartbeat);
    }
}
