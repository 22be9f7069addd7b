package io.deskgate.broker;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** {@link UserTurns}: one user's requests in turn, other users' at once, the waiting ones drained at close. */
class UserTurnsTest {
    @Test
    void shouldLetOneRequestOfAUserGoAtATimeInArrivalOrder() {
        UserTurns<String> turns = new UserTurns<>();
        assertThat(turns.enter(1, "ann", "r1")).isTrue();
        assertThat(turns.enter(1, "ann", "r2")).as("ann's first is in progress").isFalse();
        assertThat(turns.enter(1, "ann", "r3")).isFalse();
        assertThat(turns.enter(1, "bob", "r4")).as("another user").isTrue();
        assertThat(turns.enter(2, "ann", "r5")).as("ann of another tenant is another user").isTrue();

        assertThat(turns.leave(1, "ann")).contains("r2");
        assertThat(turns.leave(1, "ann")).contains("r3");
        assertThat(turns.leave(1, "ann")).isEmpty();
        assertThat(turns.enter(1, "ann", "r6")).as("her turn is free again").isTrue();
        assertThat(turns.users()).isEqualTo(3);
    }

    @Test
    void shouldHandEveryWaitingRequestOverAtClose() {
        UserTurns<String> turns = new UserTurns<>();
        turns.enter(1, "ann", "r1");
        turns.enter(1, "ann", "r2");
        turns.enter(1, "bob", "r3");
        turns.enter(1, "bob", "r4");
        assertThat(turns.drain()).containsExactlyInAnyOrder("r2", "r4");
        assertThat(turns.leave(1, "ann")).as("nothing waits any more").isEmpty();
        assertThat(turns.leave(1, "bob")).isEmpty();
        assertThat(turns.users()).isZero();
    }
}
