package io.deskgate.broker;

import static org.assertj.core.api.Assertions.assertThat;

import io.deskgate.broker.BroadcastCoalescer.Action;
import io.deskgate.broker.BroadcastCoalescer.Ask;
import io.deskgate.broker.BroadcastCoalescer.Deliver;
import io.deskgate.broker.BroadcastCoalescer.DeliverFailed;
import io.deskgate.broker.BroadcastCoalescer.Send;
import io.deskgate.control.DesktopState;
import io.deskgate.control.PoolScope;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * {@link BroadcastCoalescer} (issue 8, "Speed"; docs/architecture.md, "Concentrator sets", coalesced
 * broadcasts), on a fake clock: batches form while a broadcast is in flight, answers are shared out in
 * disjoint slices with each user's own desktops, a dead concentrator holds a batch no longer than its first
 * request's answer deadline.
 */
class BroadcastCoalescerTest {
    private static final long MS = 1_000_000L;
    private static final List<String> SET_1 = List.of("c1", "c2");
    private long now = 1_000 * MS;

    private static Ask ask(long id, String user, long answerDeadlineNs) {
        return new Ask(id, "set-1", SET_1, 1, "default", user, answerDeadlineNs);
    }

    private static Offer free(String id, String concentrator) {
        return new Offer(id, id.substring(0, id.indexOf('/')), concentrator, DesktopState.AVAILABLE, 1, "", 1);
    }

    private static Offer own(String id, String concentrator, String user) {
        return new Offer(id, id.substring(0, id.indexOf('/')), concentrator, DesktopState.DISCONNECTED, 1, user, 4);
    }

    private static List<Offer> frees(String concentrator, int n) {
        List<Offer> out = new ArrayList<>();
        for (int i = 1; i <= n; i++) out.add(free("a-" + concentrator + "/" + i, concentrator));
        return out;
    }

    private static <T> List<T> only(List<Action> actions, Class<T> type) {
        return actions.stream().filter(type::isInstance).map(type::cast).toList();
    }

    @Test
    void shouldSendALoneRequestAtOnceWithTheSingleRequestsLimit() {
        BroadcastCoalescer c = new BroadcastCoalescer(16, 64, 1, 200 * MS);
        List<Action> out = c.ask(ask(1, "alice", now + 200 * MS), now);
        assertThat(out).hasSize(1);
        Send s = (Send) out.getFirst();
        assertThat(s.concentrators()).containsExactly("c1", "c2");
        assertThat(s.users()).containsExactly("alice");
        assertThat(s.limit()).as("one request: the limit it had alone").isEqualTo(16);
        assertThat(s.callDeadlineNs()).isEqualTo(now + 200 * MS);
    }

    @Test
    void shouldGatherRequestsArrivingWhileABroadcastIsInFlightIntoTheNextOne() {
        BroadcastCoalescer c = new BroadcastCoalescer(16, 64, 1, 100 * MS);
        Send first = (Send) c.ask(ask(1, "u1", now + 200 * MS), now).getFirst();
        assertThat(c.ask(ask(2, "u2", now + 201 * MS), now + MS)).as("set-1 has a broadcast in flight: wait").isEmpty();
        assertThat(c.ask(ask(3, "u3", now + 202 * MS), now + 2 * MS)).isEmpty();
        assertThat(c.forming("set-1")).isTrue();
        assertThat(c.onAnswer(first.batchId(), "c1", frees("c1", 4), now + 3 * MS)).hasSize(1);
        List<Action> out = c.onAnswer(first.batchId(), "c2", frees("c2", 4), now + 3 * MS);
        List<Send> next = only(out, Send.class);
        assertThat(next).as("the first broadcast settled: the waiting ones go together").hasSize(1);
        assertThat(next.getFirst().users()).containsExactly("u2", "u3");
        assertThat(next.getFirst().limit()).as("16 offers per request over 2 concentrators").isEqualTo(16);
        assertThat(next.getFirst().callDeadlineNs()).as("until the latest request's answer deadline").isEqualTo(now + 202 * MS);
        assertThat(c.forming("set-1")).isFalse();
        assertThat(c.sent()).isEqualTo(2);
        assertThat(c.asked()).isEqualTo(3);
    }

    @Test
    void shouldGiveALateBatchsCallTheWholeAnswerTimeoutSoThatOnlyASilentConcentratorFails() {
        BroadcastCoalescer c = new BroadcastCoalescer(16, 64, 1, 200 * MS);
        Send first = (Send) c.ask(ask(1, "u1", now + 200 * MS), now).getFirst();
        c.ask(ask(2, "u2", now + 200 * MS), now);
        c.onAnswer(first.batchId(), "c1", List.of(), now + 150 * MS);
        Send late = only(c.onAnswer(first.batchId(), "c2", List.of(), now + 150 * MS), Send.class).getFirst();
        assertThat(late.callDeadlineNs()).as("request 2 waited 150 ms; its batch's call still gets 200 ms")
                .isEqualTo(now + 350 * MS);
    }

    @Test
    void shouldGiveEachRequestOfABatchADisjointSliceOfTheFreeDesktops() {
        BroadcastCoalescer c = new BroadcastCoalescer(4, 64, 1, 200 * MS);
        Send first = (Send) c.ask(ask(9, "u9", now + 200 * MS), now).getFirst();
        for (int i = 1; i <= 3; i++) c.ask(ask(i, "u" + i, now + 200 * MS), now);
        c.onAnswer(first.batchId(), "c1", List.of(), now);
        Send batch = only(c.onAnswer(first.batchId(), "c2", List.of(), now), Send.class).getFirst();
        assertThat(batch.limit()).as("3 requests x 4 offers over 2 concentrators, at least the lone limit").isEqualTo(6);
        List<Deliver> got = new ArrayList<>();
        got.addAll(only(c.onAnswer(batch.batchId(), "c1", frees("c1", 6), now), Deliver.class));
        got.addAll(only(c.onAnswer(batch.batchId(), "c2", frees("c2", 6), now), Deliver.class));
        assertThat(got).hasSize(6); // 3 requests x 2 concentrators
        Set<String> seen = new HashSet<>();
        for (Deliver d : got) {
            assertThat(d.offers()).hasSize(2);
            for (Offer o : d.offers()) assertThat(seen.add(o.desktopId())).as("offered to one request only: " + o.desktopId()).isTrue();
        }
        assertThat(seen).hasSize(12);
        List<String> heads = got.stream().filter(d -> d.concentratorId().equals("c2"))
                .map(d -> d.offers().getFirst().desktopId()).toList();
        assertThat(heads).as("each request gets a different one of c2's least recently assigned")
                .containsExactlyInAnyOrder("a-c2/1", "a-c2/2", "a-c2/3");
    }

    @Test
    void shouldGiveAUsersOwnDesktopToThatUsersRequestOnly() {
        BroadcastCoalescer c = new BroadcastCoalescer(16, 64, 1, 200 * MS);
        Send first = (Send) c.ask(ask(1, "alice", now + 200 * MS), now).getFirst();
        c.onAnswer(first.batchId(), "c1", List.of(), now);
        c.ask(ask(2, "bob", now + 200 * MS), now);
        c.ask(ask(3, "carol", now + 200 * MS), now);
        Send batch = only(c.onAnswer(first.batchId(), "c2", List.of(), now), Send.class).getFirst();
        List<Offer> answer = new ArrayList<>(List.of(own("x/7", "c1", "carol"), own("x/8", "c1", "dave")));
        answer.addAll(frees("c1", 2));
        List<Deliver> got = only(c.onAnswer(batch.batchId(), "c1", answer, now), Deliver.class);
        Deliver toBob = got.stream().filter(d -> d.requestId() == 2).findFirst().orElseThrow();
        Deliver toCarol = got.stream().filter(d -> d.requestId() == 3).findFirst().orElseThrow();
        assertThat(toCarol.offers()).extracting(Offer::desktopId).first().isEqualTo("x/7");
        assertThat(toBob.offers()).extracting(Offer::desktopId).doesNotContain("x/7", "x/8").hasSize(1);
        assertThat(got).flatExtracting(Deliver::offers).extracting(Offer::desktopId)
                .as("a desktop of a user with no request in the batch is given to nobody").doesNotContain("x/8");
    }

    @Test
    void shouldFreeTheSlotOfABatchWithADeadConcentratorAtItsFirstAnswerDeadlineAndFailItForItsRequests() {
        BroadcastCoalescer c = new BroadcastCoalescer(16, 64, 1, 200 * MS);
        Send first = (Send) c.ask(ask(1, "u1", now + 200 * MS), now).getFirst();
        assertThat(only(c.onAnswer(first.batchId(), "c1", frees("c1", 2), now + MS), Deliver.class)).hasSize(1);
        assertThat(c.ask(ask(2, "u2", now + 250 * MS), now + 10 * MS)).isEmpty();
        assertThat(c.tick(now + 199 * MS)).as("c2 is silent, but request 1 may still hear from it").isEmpty();
        assertThat(c.nextDeadlineNs(now + 199 * MS)).isEqualTo(now + 200 * MS);
        List<Send> next = only(c.tick(now + 200 * MS), Send.class);
        assertThat(next).as("past request 1's answer deadline the next batch goes").hasSize(1);
        assertThat(next.getFirst().users()).containsExactly("u2");
        // c2's call ends in failure at its deadline: request 1 hears it, and nothing else moves
        List<Action> failed = c.onFailed(first.batchId(), "c2", now + 200 * MS);
        assertThat(failed).containsExactly(new DeliverFailed(1, "c2"));
    }

    @Test
    void shouldDropARequestThatWithdrewOrWhoseAnswerDeadlinePassedWhileWaiting() {
        BroadcastCoalescer c = new BroadcastCoalescer(16, 64, 1, 200 * MS);
        Send first = (Send) c.ask(ask(1, "u1", now + 200 * MS), now).getFirst();
        c.ask(ask(2, "u2", now + 5 * MS), now);
        c.ask(ask(3, "u3", now + 300 * MS), now);
        c.ask(ask(4, "u4", now + 300 * MS), now);
        c.withdraw(4);
        c.onAnswer(first.batchId(), "c1", List.of(), now + 10 * MS);
        List<Send> next = only(c.onAnswer(first.batchId(), "c2", List.of(), now + 10 * MS), Send.class);
        assertThat(next.getFirst().users()).as("2 is past its answer deadline, 4 withdrew").containsExactly("u3");
    }

    @Test
    void shouldKeepOneBroadcastInFlightPerSetAndAtMostTheLimitOverall() {
        BroadcastCoalescer c = new BroadcastCoalescer(16, 64, 2, 200 * MS);
        assertThat(c.ask(new Ask(1, "set-1", SET_1, 1, "default", "u1", now + 200 * MS), now)).hasSize(1);
        assertThat(c.ask(new Ask(2, "set-2", List.of("d1"), 1, "default", "u2", now + 200 * MS), now)).hasSize(1);
        assertThat(c.ask(new Ask(3, "set-3", List.of("e1"), 1, "default", "u3", now + 200 * MS), now))
                .as("two in flight already").isEmpty();
        assertThat(c.ask(new Ask(4, "set-1", SET_1, 1, "other-pool", "u4", now + 200 * MS), now))
                .as("another pool is another broadcast, but no slot is free").isEmpty();
    }

    @Test
    void shouldBatchOnlyRequestsOfOneScopeAndSendTheScopeAlong() {
        BroadcastCoalescer c = new BroadcastCoalescer(16, 64, 1, 200 * MS);
        PoolScope gpu = PoolScope.newBuilder().addLabels("gpu").build();
        PoolScope gpuPersistent = gpu.toBuilder().setPersistent(true).build();
        Send first = (Send) c.ask(ask(1, "u1", now + 200 * MS), now).getFirst();
        assertThat(first.scope()).isEmpty();
        c.ask(new Ask(2, "set-1", SET_1, 1, "gpu", Optional.of(gpu), "u2", now + 200 * MS), now);
        c.ask(new Ask(3, "set-1", SET_1, 1, "gpu", Optional.of(gpuPersistent), "u3", now + 200 * MS), now);
        c.ask(new Ask(4, "set-1", SET_1, 1, "gpu", Optional.of(gpu), "u4", now + 200 * MS), now);
        c.onAnswer(first.batchId(), "c1", List.of(), now);
        Send floating = only(c.onAnswer(first.batchId(), "c2", List.of(), now), Send.class).getFirst();
        assertThat(floating.scope()).contains(gpu);
        assertThat(floating.users()).as("the persistent pool's request is not in the floating pool's batch")
                .containsExactly("u2", "u4");
        c.onAnswer(floating.batchId(), "c1", List.of(), now);
        Send persistent = only(c.onAnswer(floating.batchId(), "c2", List.of(), now), Send.class).getFirst();
        assertThat(persistent.scope()).contains(gpuPersistent);
        assertThat(persistent.users()).containsExactly("u3");
    }

    @Test
    void shouldDeliverEachRequestItsOwnUsersHeldCount() {
        BroadcastCoalescer c = new BroadcastCoalescer(16, 64, 1, 200 * MS);
        Send first = (Send) c.ask(ask(1, "alice", now + 200 * MS), now).getFirst();
        c.onAnswer(first.batchId(), "c1", List.of(), now);
        c.ask(ask(2, "bob", now + 200 * MS), now);
        c.ask(ask(3, "carol", now + 200 * MS), now);
        Send batch = only(c.onAnswer(first.batchId(), "c2", List.of(), now), Send.class).getFirst();
        List<Deliver> got = only(c.onAnswer(batch.batchId(), "c1", frees("c1", 2), java.util.Map.of("bob", 2), now), Deliver.class);
        assertThat(got).extracting(Deliver::requestId, Deliver::held)
                .as("bob's count to bob's request; carol holds none there").containsExactlyInAnyOrder(
                        org.assertj.core.groups.Tuple.tuple(2L, 2), org.assertj.core.groups.Tuple.tuple(3L, 0));
    }

    @Test
    void shouldCallUntilTheRequestsLastAnswerTimeAndNameTheMembersSilentAtTheSlotDeadline() {
        BroadcastCoalescer c = new BroadcastCoalescer(16, 64, 1, 200 * MS);
        Send first = (Send) c.ask(new Ask(1, "set-1", SET_1, 1, "default", Optional.empty(), "u1", now + 200 * MS,
                now + 5_000 * MS), now).getFirst();
        assertThat(first.callDeadlineNs()).as("the call may bring the first answer until the request's deadline")
                .isEqualTo(now + 5_000 * MS);
        c.onAnswer(first.batchId(), "c1", frees("c1", 1), now + MS);
        List<Action> at = c.tick(now + 200 * MS);
        assertThat(only(at, BroadcastCoalescer.Silent.class)).as("c2 had not answered by the answer deadline")
                .containsExactly(new BroadcastCoalescer.Silent("c2"));
        // c2 answers late: request 1 still gets it (its Placement decides whether it counts)
        assertThat(only(c.onAnswer(first.batchId(), "c2", frees("c2", 1), now + 900 * MS), Deliver.class)).hasSize(1);
    }

    @Test
    void shouldKeepAWaitingRequestPastItsAnswerDeadlineUntilItsLastAnswerTime() {
        BroadcastCoalescer c = new BroadcastCoalescer(16, 64, 1, 200 * MS);
        Send first = (Send) c.ask(ask(1, "u1", now + 200 * MS), now).getFirst();
        c.ask(new Ask(2, "set-1", SET_1, 1, "default", Optional.empty(), "u2", now + 5 * MS, now + 5_000 * MS), now);
        c.onAnswer(first.batchId(), "c1", List.of(), now + 10 * MS);
        List<Send> next = only(c.onAnswer(first.batchId(), "c2", List.of(), now + 20 * MS), Send.class);
        assertThat(next).as("request 2's Placement still waits for a first answer").hasSize(1);
        assertThat(next.getFirst().users()).containsExactly("u2");
    }

    @Test
    void shouldHoldABatchWithAFreeSlotForTheLingerThenSendItOnTick() {
        BroadcastCoalescer c = new BroadcastCoalescer(16, 64, 1, 100 * MS, 2 * MS, 3);
        assertThat(c.ask(ask(1, "u1", now + 200 * MS), now)).as("the slot is free but the linger holds it").isEmpty();
        assertThat(c.lingerDeadlineNs(now)).contains(now + 2 * MS);
        assertThat(c.nextDeadlineNs(now)).isEqualTo(now + 2 * MS);
        assertThat(c.ask(ask(2, "u2", now + 201 * MS), now + MS)).isEmpty();
        assertThat(c.tick(now + MS + MS / 2)).as("the linger is not over").isEmpty();
        List<Send> sent = only(c.tick(now + 2 * MS), Send.class);
        assertThat(sent).hasSize(1);
        assertThat(sent.getFirst().users()).containsExactly("u1", "u2");
        assertThat(c.lingerDeadlineNs(now + 2 * MS)).isEmpty();
        assertThat(c.sent()).isEqualTo(1);
    }

    @Test
    void shouldEndTheLingerAtOnceWhenTheBatchIsFull() {
        BroadcastCoalescer c = new BroadcastCoalescer(16, 64, 1, 100 * MS, 50 * MS, 3);
        assertThat(c.ask(ask(1, "u1", now + 200 * MS), now)).isEmpty();
        assertThat(c.ask(ask(2, "u2", now + 200 * MS), now)).isEmpty();
        List<Send> sent = only(c.ask(ask(3, "u3", now + 200 * MS), now), Send.class);
        assertThat(sent).as("the third request fills the batch").hasSize(1);
        assertThat(sent.getFirst().users()).containsExactly("u1", "u2", "u3");
        assertThat(c.lingerDeadlineNs(now)).isEmpty();
    }

    @Test
    void shouldNotLingerABatchThatWaitedForItsSlotLongerThanTheLinger() {
        BroadcastCoalescer c = new BroadcastCoalescer(16, 64, 1, 100 * MS, 2 * MS, 8);
        assertThat(c.ask(ask(1, "u1", now + 200 * MS), now)).isEmpty();
        Send first = only(c.tick(now + 2 * MS), Send.class).getFirst();
        assertThat(c.ask(ask(2, "u2", now + 300 * MS), now + 3 * MS)).as("slot busy").isEmpty();
        assertThat(c.lingerDeadlineNs(now + 3 * MS)).as("a batch waiting for its slot is not lingering").isEmpty();
        c.onAnswer(first.batchId(), "c1", frees("c1", 2), now + 9 * MS);
        List<Send> next = only(c.onAnswer(first.batchId(), "c2", frees("c2", 2), now + 9 * MS), Send.class);
        assertThat(next).as("its linger ran out while it waited: sent as the slot frees").hasSize(1);
        assertThat(next.getFirst().users()).containsExactly("u2");
    }

    @Test
    void shouldDropTheLingerOfAWithdrawnBatch() {
        BroadcastCoalescer c = new BroadcastCoalescer(16, 64, 1, 100 * MS, 2 * MS, 8);
        c.ask(ask(1, "u1", now + 200 * MS), now);
        c.withdraw(1);
        assertThat(c.lingerDeadlineNs(now)).isEmpty();
        assertThat(c.tick(now + 5 * MS)).isEmpty();
        assertThat(c.forming("set-1")).isFalse();
    }
}
