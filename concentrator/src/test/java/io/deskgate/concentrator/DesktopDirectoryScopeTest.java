package io.deskgate.concentrator;

import static org.assertj.core.api.Assertions.assertThat;

import io.deskgate.concentrator.DesktopDirectory.Accepted;
import io.deskgate.concentrator.DesktopDirectory.Found;
import io.deskgate.concentrator.DesktopDirectory.Limits;
import io.deskgate.concentrator.DesktopDirectory.Query;
import io.deskgate.concentrator.DesktopDirectory.Rejected;
import io.deskgate.concentrator.DesktopDirectory.Rejection;
import io.deskgate.concentrator.DesktopDirectory.Scope;
import io.deskgate.control.DesktopState;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * {@link DesktopDirectory#find}: pools by scope (agents and labels), the tenant, the user's held count, a named
 * desktop, session ids and the agent's hello in the answers, the held listing. Pure: a fake clock.
 */
class DesktopDirectoryScopeTest {
    private static final long NOW = 1_000L;
    private final DesktopDirectory dir = new DesktopDirectory(Limits.DEFAULT);
    private long version = 1;

    private void agent(String id, long conn, int tenant, List<String> labels, int desktops) {
        assertThat(dir.connect(id, conn, new AgentInfo(labels, "10.0.0." + conn, 1280, 800), NOW)).isInstanceOf(Accepted.class);
        List<DesktopReport> r = new java.util.ArrayList<>();
        for (int n = 1; n <= desktops; n++) {
            r.add(new DesktopReport(id + "/" + n, DesktopState.AVAILABLE, tenant, "default", "", version++, "", 5900 + n));
        }
        assertThat(dir.report(id, conn, true, r, NOW)).isEqualTo(new Accepted(desktops));
    }

    private void set(String agentId, long conn, int n, DesktopState state, int tenant, String user, String session) {
        assertThat(dir.report(agentId, conn, false, List.of(new DesktopReport(agentId + "/" + n, state, tenant, "default", user,
                version++, session, 5900 + n)), NOW)).isInstanceOf(Accepted.class);
    }

    private static Query scoped(int tenant, String pool, Scope scope, String user) {
        return new Query(tenant, pool, Optional.of(scope), user, "", 64, false);
    }

    private static List<String> ids(Found f) {
        return f.desktops().stream().map(DesktopView::desktopId).toList();
    }

    @Test
    void shouldOfferOnlyDesktopsOfAgentsInTheScopeAndOfTheTenant() {
        agent("a", 1, 1, List.of("gpu"), 2);
        agent("b", 2, 1, List.of(), 2);
        agent("c", 3, 2, List.of("gpu"), 2); // another tenant's agent carrying the label

        assertThat(ids(dir.find(scoped(1, "by-agent", new Scope(Set.of("b"), Set.of()), "")))).containsExactly("b/1", "b/2");
        assertThat(ids(dir.find(scoped(1, "by-label", new Scope(Set.of(), Set.of("gpu")), "")))).containsExactly("a/1", "a/2");
        assertThat(ids(dir.find(scoped(2, "by-label", new Scope(Set.of(), Set.of("gpu")), "")))).containsExactly("c/1", "c/2");
        assertThat(ids(dir.find(scoped(1, "nothing", new Scope(Set.of("zzz"), Set.of()), "")))).isEmpty();
    }

    @Test
    void shouldKeepAScopedFreeListCurrentAsDesktopsChangeAndAgentsComeAndGo() {
        agent("a", 1, 1, List.of("gpu"), 2);
        Scope gpu = new Scope(Set.of(), Set.of("gpu"));
        assertThat(ids(dir.find(scoped(1, "gpu", gpu, "")))).containsExactly("a/1", "a/2");

        set("a", 1, 1, DesktopState.ASSIGNED, 1, "ann", "s-1");
        assertThat(ids(dir.find(scoped(1, "gpu", gpu, "")))).containsExactly("a/2");
        agent("b", 2, 1, List.of("gpu"), 1); // joins after the pool was built
        assertThat(ids(dir.find(scoped(1, "gpu", gpu, "")))).containsExactly("a/2", "b/1");
        set("a", 1, 1, DesktopState.STARTING, 1, "", "");
        set("a", 1, 1, DesktopState.AVAILABLE, 1, "", "");
        assertThat(ids(dir.find(scoped(1, "gpu", gpu, "")))).as("least recently freed first").containsExactly("a/2", "b/1", "a/1");
        dir.disconnected("b", 2, NOW);
        assertThat(ids(dir.find(scoped(1, "gpu", gpu, "")))).containsExactly("a/2", "a/1");

        // The same pool key with another scope: rebuilt for it.
        assertThat(ids(dir.find(scoped(1, "gpu", new Scope(Set.of("zzz"), Set.of()), "")))).isEmpty();
        assertThat(dir.scopedPools()).isEqualTo(1);
    }

    @Test
    void shouldPutTheUsersOwnFirstCountWhatTheyHoldEverywhereAndCarrySessionIds() {
        agent("a", 1, 1, List.of("gpu"), 2);
        agent("b", 2, 1, List.of(), 2);
        set("b", 2, 1, DesktopState.ASSIGNED, 1, "ann", "s-b");
        set("b", 2, 1, DesktopState.IN_USE, 1, "ann", "s-b");
        set("a", 1, 2, DesktopState.ASSIGNED, 1, "ann", "s-a");
        set("a", 1, 2, DesktopState.DISCONNECTED, 1, "ann", "s-a");

        Found f = dir.find(scoped(1, "gpu", new Scope(Set.of(), Set.of("gpu")), "ann"));
        assertThat(ids(f)).as("her own in the pool first; her desktop outside it not offered").containsExactly("a/2", "a/1");
        assertThat(f.held()).as("held in every pool").isEqualTo(2);
        DesktopView own = f.desktops().getFirst();
        assertThat(own.sessionId()).isEqualTo("s-a");
        assertThat(own.port()).isEqualTo(5902);
        assertThat(own.host()).isEqualTo("10.0.0.1");
        assertThat(own.width()).isEqualTo(1280);
        assertThat(own.labels()).containsExactly("gpu");
        assertThat(f.desktops().get(1).sessionId()).as("a free desktop has no session").isEmpty();
        assertThat(dir.find(scoped(2, "gpu", new Scope(Set.of(), Set.of("gpu")), "ann")).held())
                .as("ann of tenant 2 is another user").isZero();

        Found listing = dir.find(new Query(1, "gpu", Optional.of(new Scope(Set.of(), Set.of("gpu"))), "ann", "", 64, false, true));
        assertThat(ids(listing)).as("a listing: her own of every pool, then the free ones in scope").containsExactly("a/2", "b/1", "a/1");
        assertThat(ids(dir.find(new Query(1, "none", Optional.of(new Scope(Set.of(), Set.of())), "ann", "", 64, false, true))))
                .as("her own even with no pool").containsExactly("a/2", "b/1");

        Found held = dir.find(new Query(1, "", Optional.empty(), "", "", 64, true));
        assertThat(held.desktops()).extracting(DesktopView::sessionId).containsExactlyInAnyOrder("s-a", "s-b");
        assertThat(dir.find(new Query(2, "", Optional.empty(), "", "", 64, true)).desktops()).isEmpty();
    }

    @Test
    void shouldAnswerACoalescedFindFromTheScopeWithEachUsersHeldCount() {
        agent("a", 1, 1, List.of("gpu"), 3);
        agent("b", 2, 1, List.of(), 2);
        set("a", 1, 1, DesktopState.ASSIGNED, 1, "ann", "s-a");
        set("b", 2, 1, DesktopState.ASSIGNED, 1, "bob", "s-b"); // bob's, outside the gpu pool
        set("b", 2, 2, DesktopState.ASSIGNED, 1, "cy", "s-c");
        Scope gpu = new Scope(Set.of(), Set.of("gpu"));

        DesktopDirectory.FoundBatch batch = dir.findBatch(1, "gpu", Optional.of(gpu), List.of("ann", "bob", "cy", "dee"), 64);
        assertThat(batch.desktops()).extracting(DesktopView::desktopId)
                .as("ann's own in the pool, then the pool's free ones only: nothing of b's agent").containsExactly("a/1", "a/2", "a/3");
        assertThat(batch.held()).as("each user's count, every pool, in the users' order").containsExactly(1, 1, 1, 0);
        assertThat(dir.findBatch(2, "gpu", Optional.of(gpu), List.of("ann"), 64).desktops()).as("another tenant").isEmpty();
        assertThat(dir.findBatch(1, "default", Optional.empty(), List.of("bob", "ann"), 64).desktops())
                .extracting(DesktopView::desktopId).as("without a scope: the reported pool name, as before")
                .containsExactly("b/1", "a/1", "a/2", "a/3");
    }

    @Test
    void shouldAnswerANamedDesktopOnlyWhenItIsInThePool() {
        agent("a", 1, 1, List.of("gpu"), 2);
        agent("c", 3, 2, List.of("gpu"), 1);
        set("a", 1, 1, DesktopState.ASSIGNED, 1, "bob", "s-bob");
        Scope gpu = new Scope(Set.of(), Set.of("gpu"));

        assertThat(ids(dir.find(new Query(1, "gpu", Optional.of(gpu), "ann", "a/1", 64, false))))
                .as("in any state: the broker decides").containsExactly("a/1");
        assertThat(ids(dir.find(new Query(1, "gpu", Optional.of(gpu), "ann", "c/1", 64, false)))).as("another tenant's").isEmpty();
        assertThat(ids(dir.find(new Query(1, "gpu", Optional.of(new Scope(Set.of("x"), Set.of())), "ann", "a/2", 64, false))))
                .as("outside the scope").isEmpty();
        assertThat(ids(dir.find(new Query(1, "gpu", Optional.of(gpu), "ann", "a/9", 64, false)))).as("none such").isEmpty();
        assertThat(ids(dir.find(new Query(1, "gpu", Optional.of(gpu), "ann", "nonsense", 64, false)))).isEmpty();
    }

    @Test
    void shouldRefuseABadHelloAndReportAndScope() {
        assertThat(dir.connect("a", 1, new AgentInfo(List.of("bad label"), "", 0, 0), NOW))
                .isEqualTo(new Rejected(Rejection.INVALID_REPORT, "a label is 1 to 64 letters, digits, . _ @ -"));
        agent("a", 2, 1, List.of(), 1);
        assertThat(dir.report("a", 2, false, List.of(new DesktopReport("a/1", DesktopState.AVAILABLE, 1, "default", "",
                version++, "", 70_000)), NOW)).isInstanceOf(Rejected.class);
        assertThat(new Scope(Set.of("ok", "not ok"), Set.of()).invalid()).isEqualTo("a scope's agent id is not a valid name");
        assertThat(new Scope(Set.of(), Set.of("-x")).invalid()).isEqualTo("a scope's label is not a valid name");
        assertThat(new Scope(Set.of("a"), Set.of("gpu")).invalid()).isEmpty();
    }
}
