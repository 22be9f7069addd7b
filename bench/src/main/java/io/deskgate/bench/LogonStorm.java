package io.deskgate.bench;

import io.deskgate.control.BrokerGrpc;
import io.deskgate.control.ControlAuth;
import io.deskgate.control.ControlChannels;
import io.deskgate.control.FindDesktopReply;
import io.deskgate.control.FindDesktopRequest;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * A logon storm: {@code count} session requests ({@code Broker.FindDesktop}, session {@code <prefix>-<i>}
 * of user {@code <prefix>-user-<i>}, tenant 1, pool {@code default}) sent over gRPC to the given brokers in
 * turn (request i to broker i mod n), at most {@code concurrency} in flight at once, each on a virtual
 * thread with a blocking stub over one shared channel per broker. Each request is timed from its send to
 * its answer. Bounded: each request has a deadline ({@link #REQUEST_DEADLINE}, the brokers' own 5 s plus
 * slack) and the storm as a whole {@code budget}; requests not sent within the budget end as
 * {@code NOT_SENT}. Every request ends with a desktop or a reason.
 */
final class LogonStorm {
    static final Duration REQUEST_DEADLINE = Duration.ofSeconds(10);

    private LogonStorm() {}

    /**
     * What became of request i: the desktop and session it was placed on, or (desktop empty) the reason, as
     * {@code <CODE>: <description>}; {@code latencyNs} is -1 for a request never sent. {@code confirmed}: the
     * desktop's owner said, right after the answer, that the desktop is held by this session.
     */
    record Outcome(String sessionId, String desktopId, String reason, long latencyNs, boolean confirmed) {
        Outcome {
            Objects.requireNonNull(sessionId, "sessionId");
            Objects.requireNonNull(desktopId, "desktopId");
            Objects.requireNonNull(reason, "reason");
        }

        boolean placed() {
            return !desktopId.isEmpty();
        }
    }

    /**
     * The outcomes in request order, the storm's wall time from the first send to the last answer, and the
     * CPU time the whole JVM spent meanwhile (every role of the run shares it).
     */
    record Result(List<Outcome> outcomes, long wallNs, long cpuNs) {
        Result(List<Outcome> outcomes, long wallNs) {
            this(outcomes, wallNs, 0);
        }

        long placed() {
            return outcomes.stream().filter(Outcome::placed).count();
        }

        double picksPerSecond() {
            return placed() / (wallNs / 1e9);
        }

        /** Nearest-rank percentile {@code q} (0 < q <= 1) of every sent request's latency, in milliseconds. */
        double latencyMs(double q) {
            long[] ns = outcomes.stream().mapToLong(Outcome::latencyNs).filter(l -> l >= 0).toArray();
            if (ns.length == 0) return 0;
            Arrays.sort(ns);
            int rank = (int) Math.ceil(q * ns.length);
            return ns[Math.max(0, rank - 1)] / 1e6;
        }
    }

    /** Whom a desktop is held by now, as its owner (the agent, or the central map) says: (desktop, session). */
    interface Owners {
        boolean holds(String desktopId, String sessionId);
    }

    /**
     * Sends the storm and waits for every answer. Each placement is checked with {@code owners} right after
     * its answer (outside its timing), while the one-time password the agent issued still holds it: an
     * unused assignment lapses after the agent's password lifetime (60 s).
     */
    static Result run(List<String> brokerTargets, byte[] secret, String prefix, int count, int concurrency, Duration budget,
                      Owners owners) {
        if (brokerTargets.isEmpty()) throw new IllegalArgumentException("no broker to ask");
        ControlAuth auth = new ControlAuth(secret);
        List<ManagedChannel> channels = new ArrayList<>();
        for (String t : brokerTargets) channels.add(ControlChannels.open(t, auth));
        Outcome[] outcomes = new Outcome[count];
        Semaphore inFlight = new Semaphore(concurrency);
        var os = (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        long cpuStart = os.getProcessCpuTime();
        long start = System.nanoTime();
        long end = start + budget.toNanos();
        long wall;
        try {
            try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
                for (int i = 0; i < count; i++) {
                    String session = prefix + "-" + i;
                    boolean admitted;
                    try {
                        admitted = inFlight.tryAcquire(Math.max(0, end - System.nanoTime()), TimeUnit.NANOSECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        admitted = false;
                    }
                    if (!admitted) {
                        outcomes[i] = new Outcome(session, "", "NOT_SENT: the storm's budget of " + budget.toSeconds()
                                + " s ran out first", -1, false);
                        continue;
                    }
                    int index = i;
                    FindDesktopRequest request = FindDesktopRequest.newBuilder().setSessionId(session)
                            .setUser(prefix + "-user-" + i).setTenant(1).setPool("default").build();
                    BrokerGrpc.BrokerBlockingStub stub = BrokerGrpc.newBlockingStub(channels.get(i % channels.size()));
                    pool.execute(() -> {
                        try {
                            outcomes[index] = ask(stub, request, owners);
                        } finally {
                            inFlight.release();
                        }
                    });
                }
            } // closing the executor waits for every request's answer
            wall = System.nanoTime() - start;
        } finally {
            for (ManagedChannel ch : channels) ControlChannels.close(ch, Duration.ofSeconds(2));
        }
        return new Result(List.of(outcomes), wall, os.getProcessCpuTime() - cpuStart);
    }

    private static Outcome ask(BrokerGrpc.BrokerBlockingStub stub, FindDesktopRequest request, Owners owners) {
        long t0 = System.nanoTime();
        try {
            FindDesktopReply r = stub.withDeadlineAfter(REQUEST_DEADLINE.toMillis(), TimeUnit.MILLISECONDS).findDesktop(request);
            long latency = System.nanoTime() - t0;
            String desktop = r.getDesktop().getDesktopId();
            if (desktop.isEmpty()) return new Outcome(request.getSessionId(), "", "EMPTY: a reply without a desktop", latency, false);
            return new Outcome(request.getSessionId(), desktop, "", latency, owners.holds(desktop, request.getSessionId()));
        } catch (StatusRuntimeException e) {
            String d = e.getStatus().getDescription();
            return new Outcome(request.getSessionId(), "", e.getStatus().getCode() + ": " + (d == null ? "(no description)" : d),
                    System.nanoTime() - t0, false);
        } catch (RuntimeException e) {
            return new Outcome(request.getSessionId(), "", "CLIENT: " + e, System.nanoTime() - t0, false);
        }
    }
}
