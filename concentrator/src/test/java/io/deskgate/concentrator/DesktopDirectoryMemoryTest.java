package io.deskgate.concentrator;

import static org.assertj.core.api.Assertions.assertThat;

import io.deskgate.concentrator.DesktopDirectory.Accepted;
import io.deskgate.concentrator.DesktopDirectory.Limits;
import io.deskgate.control.DesktopState;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Issue 8, "Speed": a concentrator holds a desktop's state in under 1 KiB.
 *
 * <p>Method: the bytes the test thread allocates while 100,000 desktops are connected and reported
 * (HotSpot's per-thread allocation counter, {@code com.sun.management.ThreadMXBean}). The reports
 * themselves are built before the measurement starts. Every byte the directory retains was allocated
 * during the measurement, so allocated bytes per desktop are an upper bound on retained bytes per
 * desktop, whatever the garbage collector does meanwhile: no {@code System.gc()} and no heap sampling.
 */
class DesktopDirectoryMemoryTest {
    private static final int AGENTS = 1_000;
    private static final int PER_AGENT = 100;

    @Test
    void shouldHoldOneDesktopInUnderOneKibibyteAndInternPoolNames() {
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        assertThat(threads.isThreadAllocatedMemorySupported()).as("this JVM counts allocated bytes").isTrue();
        threads.setThreadAllocatedMemoryEnabled(true);
        List<List<DesktopReport>> reports = new ArrayList<>();
        for (int a = 0; a < AGENTS; a++) {
            List<DesktopReport> r = new ArrayList<>(PER_AGENT);
            for (int n = 1; n <= PER_AGENT; n++) {
                int tenant = 1 + (a / 10) % 2;
                // a new String per desktop, as decoded from the wire: the directory interns pool names
                String pool = new String(("pool-" + (a % 10)).toCharArray());
                boolean held = n % 10 == 0;
                r.add(new DesktopReport("agent-" + a + "/" + n, held ? DesktopState.IN_USE : DesktopState.AVAILABLE,
                        tenant, pool, held ? "user-" + a + "-" + n : "", 7,
                        held ? java.util.UUID.nameUUIDFromBytes(new byte[] {(byte) a, (byte) n}).toString() : "", 5900 + n));
            }
            reports.add(r);
        }
        DesktopDirectory directory = new DesktopDirectory(Limits.DEFAULT);

        long before = threads.getCurrentThreadAllocatedBytes();
        for (int a = 0; a < AGENTS; a++) {
            // every agent's hello: its labels and host, held once per agent
            directory.connect("agent-" + a, a, new AgentInfo(List.of("rack-" + (a % 4), "gpu"), "10.1." + (a / 250) + "." + (a % 250),
                    1280, 800), 1_000L);
            assertThat(directory.report("agent-" + a, a, true, reports.get(a), 1_000L)).isEqualTo(new Accepted(PER_AGENT));
        }
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;

        int desktops = AGENTS * PER_AGENT;
        assertThat(directory.desktops()).isEqualTo(desktops);
        long perDesktop = allocated / desktops;
        System.out.println("concentrator: bytes_per_desktop<=" + perDesktop + " (allocated " + allocated + " for " + desktops + ")");
        assertThat(perDesktop).as("bytes allocated (an upper bound of bytes held) per desktop").isLessThan(1024);
        assertThat(directory.pools()).as("20 (tenant, pool) pairs, each held once").isEqualTo(20);
        List<DesktopView> free = directory.findAvailable(1, "pool-0", "", 64);
        assertThat(free).hasSize(64);
        DesktopView other = directory.findAvailable(2, "pool-0", "", 1).getFirst();
        // A pool by scope (every agent carrying "rack-0"): its free list costs a few bytes per free desktop in it.
        long beforeScope = threads.getCurrentThreadAllocatedBytes();
        var scoped = directory.find(new DesktopDirectory.Query(1, "rack-0", java.util.Optional.of(new DesktopDirectory.Scope(
                java.util.Set.of(), java.util.Set.of("rack-0"))), "", "", 64, false));
        long scopeBytes = threads.getCurrentThreadAllocatedBytes() - beforeScope;
        assertThat(scoped.desktops()).hasSize(64);
        int inScope = 0; // the tenant-1 agents of rack-0, 90 free desktops each
        for (int a = 0; a < AGENTS; a += 4) if ((a / 10) % 2 == 0) inScope += 90;
        System.out.println("concentrator: scoped pool bytes_per_free_desktop<=" + scopeBytes / inScope);
        assertThat(scopeBytes / inScope).as("a scoped pool's bytes per free desktop").isLessThan(256);
        assertThat(other.agentId()).isEqualTo("agent-10");
        assertThat(other.pool()).as("one interned name, though every report carried its own String").isSameAs(free.getFirst().pool());
    }
}
