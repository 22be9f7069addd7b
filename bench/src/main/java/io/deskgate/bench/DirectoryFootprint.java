package io.deskgate.bench;

import io.deskgate.common.DeskgateException;
import io.deskgate.common.Status;
import io.deskgate.concentrator.DesktopDirectory;
import io.deskgate.concentrator.DesktopReport;
import io.deskgate.control.Desktop;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code bytes_per_desktop} of {@code deskgate bench broker}: what a concentrator's {@link DesktopDirectory}
 * (the state a concentrator holds per desktop) costs, by the method of {@code DesktopDirectoryMemoryTest}:
 * the bytes the measuring thread allocates while a fresh directory, with a concentrator's limits, takes the
 * connection and full snapshot of each agent given (HotSpot's per-thread allocation counter). The reports
 * are built before the count starts, as the concentrator's edge decodes them (a new String per pool name
 * and per user, as from the wire). Every byte the directory retains was allocated meanwhile, so the
 * result is an upper bound on retained bytes per desktop, with no heap sampling and no dependence on the
 * garbage collector. Not counted: the per-agent stream and channel of the gRPC edge (per agent, not per desktop).
 */
final class DirectoryFootprint {
    private DirectoryFootprint() {}

    /** @param desktopsByAgent agent id to its desktops as its agent publishes them (tenant 1, pool {@code default}) */
    static long bytesPerDesktop(Map<String, List<Desktop>> desktopsByAgent) {
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        if (!threads.isThreadAllocatedMemorySupported()) {
            throw new DeskgateException(Status.INTERNAL_ERROR, "this JVM does not count allocated bytes per thread");
        }
        threads.setThreadAllocatedMemoryEnabled(true);
        List<String> ids = new ArrayList<>(desktopsByAgent.keySet());
        List<List<DesktopReport>> reports = new ArrayList<>();
        int desktops = 0;
        for (String id : ids) {
            List<DesktopReport> r = new ArrayList<>();
            for (Desktop d : desktopsByAgent.get(id)) {
                r.add(new DesktopReport(d.getDesktopId(), d.getState(), 1, new String("default".toCharArray()),
                        new String(d.getUser().toCharArray()), d.getVersion()));
            }
            desktops += r.size();
            reports.add(r);
        }
        if (desktops == 0) throw new IllegalArgumentException("no desktops to measure");
        DesktopDirectory directory = new DesktopDirectory(DesktopDirectory.Limits.DEFAULT);
        long before = threads.getCurrentThreadAllocatedBytes();
        for (int i = 0; i < ids.size(); i++) {
            directory.connect(ids.get(i), i + 1, 1_000L);
            if (!(directory.report(ids.get(i), i + 1, true, reports.get(i), 1_000L) instanceof DesktopDirectory.Accepted)) {
                throw new DeskgateException(Status.INTERNAL_ERROR, "the directory refused agent " + ids.get(i) + "'s snapshot");
            }
        }
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;
        if (directory.desktops() != desktops) {
            throw new DeskgateException(Status.INTERNAL_ERROR, "the directory holds " + directory.desktops() + " of "
                    + desktops + " desktops");
        }
        return allocated / desktops;
    }
}
