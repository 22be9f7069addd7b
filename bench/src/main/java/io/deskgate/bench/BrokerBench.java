package io.deskgate.bench;

import io.deskgate.agent.ConcentratorLinks;
import io.deskgate.agent.SimulatedAgent;
import io.deskgate.common.Secrets;
import io.deskgate.concentrator.Concentrator;
import io.deskgate.control.Desktop;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code deskgate bench broker} (issue 8, "How it is checked" and "Speed"; docs/benchmarks.md, "broker"):
 * sharded brokering (seed 001) against a central broker, in one JVM over real gRPC on loopback.
 *
 * <ol>
 *   <li>A {@link BrokerFleet}: {@code sets x concentratorsPerSet} concentrators, simulated agents holding
 *       {@code desktops} desktops, each agent reporting to one concentrator of every set, and {@code brokers}
 *       brokers serving the gRPC Broker service. Waits until every set holds every desktop.</li>
 *   <li>Each broker connects to every concentrator ({@code SessionBroker.connect}); a warm-up (not measured) of
 *       {@value #COLD_REQUESTS} requests one at a time, then a tenth of the requests at the storm's concurrency;
 *       then the logon storm: {@code requests}
 *       FindDesktop calls spread over the brokers, {@code concurrency} in flight ({@link LogonStorm}).
 *       Each placement is checked at its agent right after its answer; {@code double_assignments} counts
 *       the sessions placed that their agent does not hold, or that share their desktop with another.</li>
 *   <li>The same warm-up and storm against a {@link CentralBroker} holding the same desktop ids:
 *       {@code ratio_vs_central} = sharded picks/s / central picks/s, from the printed values.</li>
 *   <li>{@code bytes_per_desktop}: {@link DirectoryFootprint} over the desktops of the agents of the
 *       concentrator closed next, as those agents publish them after the storm.</li>
 *   <li>{@code rehome_ms}: the most loaded concentrator of {@code set-1} is closed (its registry row stays, as
 *       a dead role's does until its heartbeat times out); from the call to the moment the other members of
 *       the set hold every desktop again, as their own loads say.</li>
 * </ol>
 * Every wait has a deadline; past it the run fails naming it. Progress lines go to {@code progress}.
 */
public final class BrokerBench {
    private static final Duration REGISTER_TIMEOUT = Duration.ofMinutes(5);
    private static final Duration STORM_BUDGET = Duration.ofMinutes(10);
    private static final Duration REHOME_TIMEOUT = Duration.ofMinutes(2);
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(30);
    private static final String REHOMED_SET = "set-1";
    /** The first warm-up requests, sent one at a time: the first calls of each path run cold (class loading, interpreter). */
    private static final int COLD_REQUESTS = 16;

    private BrokerBench() {}

    /**
     * The size of a run. {@code desktopsPerAgent} at most 999 (an agent numbers its desktops 1 to 999).
     *
     * @param concurrency requests in flight at once over all brokers
     * @param lingerMicros the brokers' broadcast linger (0: none, the default; {@code SessionBroker.Settings})
     * @param lingerBatch  the batch size that ends a linger early
     * @param sharedAgentChannels the simulated agents' report streams on one channel per concentrator for all of them
     *                     ({@code --agent-channels shared}) instead of one per agent and concentrator (the default)
     */
    public record Options(int desktops, int requests, int sets, int concentratorsPerSet, int brokers,
                          int desktopsPerAgent, int concurrency, int warmupRequests, int lingerMicros, int lingerBatch,
                          boolean sharedAgentChannels) {
        /** Issue 8's run: 100,000 desktops on 500 agents, 4 sets x 8 concentrators, 4 brokers, 20,000 requests. */
        public static final Options DEFAULT = new Options(100_000, 20_000, 4, 8, 4, 200, 32);

        /** With the default warm-up: a tenth of the requests. */
        public Options(int desktops, int requests, int sets, int concentratorsPerSet, int brokers, int desktopsPerAgent,
                       int concurrency) {
            this(desktops, requests, sets, concentratorsPerSet, brokers, desktopsPerAgent, concurrency, 0);
        }

        /** Without a broadcast linger. */
        public Options(int desktops, int requests, int sets, int concentratorsPerSet, int brokers, int desktopsPerAgent,
                       int concurrency, int warmupRequests) {
            this(desktops, requests, sets, concentratorsPerSet, brokers, desktopsPerAgent, concurrency, warmupRequests, 0, 8);
        }

        /** Each agent's streams on channels of its own. */
        public Options(int desktops, int requests, int sets, int concentratorsPerSet, int brokers, int desktopsPerAgent,
                       int concurrency, int warmupRequests, int lingerMicros, int lingerBatch) {
            this(desktops, requests, sets, concentratorsPerSet, brokers, desktopsPerAgent, concurrency, warmupRequests,
                    lingerMicros, lingerBatch, false);
        }

        /** {@code --agent-channels}: {@code own} or {@code shared}. */
        static boolean sharedAgentChannels(String flag) {
            return switch (flag) {
                case "own" -> false;
                case "shared" -> true;
                default -> throw new IllegalArgumentException("--agent-channels must be own or shared: " + flag);
            };
        }

        /**
         * @param warmupRequests the warm-up's requests at full concurrency before the storm; 0: a tenth of the
         *                       requests (the default, the recorded runs')
         */
        public Options {
            if (warmupRequests < 0) throw new IllegalArgumentException("--warmups must not be negative: " + warmupRequests);
            positive("desktops", desktops);
            positive("requests", requests);
            positive("sets", sets);
            positive("concentrators", concentratorsPerSet);
            positive("brokers", brokers);
            positive("concurrency", concurrency);
            positive("linger-batch", lingerBatch);
            if (lingerMicros < 0 || lingerMicros > 100_000) {
                throw new IllegalArgumentException("--linger-us must be 0 to 100000: " + lingerMicros);
            }
            if (desktopsPerAgent < 1 || desktopsPerAgent > 999) {
                throw new IllegalArgumentException("--desktops-per-agent must be 1 to 999: " + desktopsPerAgent);
            }
        }

        private static void positive(String flag, int v) {
            if (v < 1) throw new IllegalArgumentException("--" + flag + " must be at least 1: " + v);
        }

        int warmups() {
            return warmupRequests > 0 ? warmupRequests : Math.max(1, requests / 10);
        }
    }

    /**
     * The measured run.
     *
     * @param outcomes the storm's outcomes through the sharded brokers, in request order
     */
    public record Result(double picksPerSecond, double p50Ms, double p99Ms, long doubleAssignments, int desktops,
                         double centralPicksPerSecond, long bytesPerDesktop, double rehomeMs,
                         List<LogonStorm.Outcome> outcomes) {
        public Result {
            outcomes = List.copyOf(outcomes);
        }

        /**
         * {@code broker: picks_per_s=<n> p50_ms=<x.y> p99_ms=<x.y> double_assignments=<n> desktops=<n>
         * ratio_vs_central=<x.yy> bytes_per_desktop=<n> rehome_ms=<x.y>}; the ratio from the printed rates.
         */
        public String line() {
            long picks = Math.round(picksPerSecond);
            long central = Math.round(centralPicksPerSecond);
            return String.format(Locale.ROOT, "broker: picks_per_s=%d p50_ms=%.1f p99_ms=%.1f double_assignments=%d"
                            + " desktops=%d ratio_vs_central=%.2f bytes_per_desktop=%d rehome_ms=%.1f",
                    picks, p50Ms, p99Ms, doubleAssignments, desktops, central == 0 ? 0.0 : (double) picks / central,
                    bytesPerDesktop, rehomeMs);
        }
    }

    public static Result run(Options o, PrintStream progress) {
        byte[] secret = Secrets.randomBytes(32);
        long t0 = System.nanoTime();
        try (BrokerFleet fleet = BrokerFleet.start(o, secret)) {
            progress.printf(Locale.ROOT, "fleet: %d concentrators in %d sets, %d agents, %d desktops, %d brokers, started in %d ms%n",
                    o.sets() * o.concentratorsPerSet(), o.sets(), fleet.agents().size(), fleet.desktops(), o.brokers(),
                    (System.nanoTime() - t0) / 1_000_000);
            BrokerFleet.await("every desktop reported to one concentrator of every set", REGISTER_TIMEOUT,
                    () -> fleet.sets().keySet().stream().allMatch(s -> fleet.held(s, null) == fleet.desktops()));
            progress.printf(Locale.ROOT, "fleet: every set holds every desktop %d ms after the start%n",
                    (System.nanoTime() - t0) / 1_000_000);

            int connected = fleet.connectBrokers(CONNECT_TIMEOUT);
            progress.printf(Locale.ROOT, "fleet: %d broker-to-concentrator channels connected; the agents' report streams on %s%n",
                    connected, o.sharedAgentChannels() ? "one channel per concentrator shared by all agents" : "channels of their own");

            LogonStorm.Owners agents = agentOwners(fleet.agents());
            LogonStorm.Result cold = LogonStorm.run(fleet.brokerTargets(), secret, "cold", COLD_REQUESTS, 1, STORM_BUDGET, agents);
            report(progress, "sharded warm-up, one at a time", cold);
            LogonStorm.Result warm = LogonStorm.run(fleet.brokerTargets(), secret, "warm", o.warmups(), o.concurrency(),
                    STORM_BUDGET, agents);
            report(progress, "sharded warm-up", warm);
            long[] before = fleet.broadcasts();
            long deltasBefore = ConcentratorLinks.deltasSent();
            long deltaDesktopsBefore = ConcentratorLinks.deltaDesktopsSent();
            long withAnswersBefore = ConcentratorLinks.deltasWithAnswers();
            LogonStorm.Result storm = LogonStorm.run(fleet.brokerTargets(), secret, "storm", o.requests(), o.concurrency(),
                    STORM_BUDGET, agents);
            report(progress, "sharded storm", storm);
            long[] after = fleet.broadcasts();
            progress.printf(Locale.ROOT, "sharded storm: %d FindAvailable broadcasts carried %d requests' (%.2f per broadcast)%n",
                    after[0] - before[0], after[1] - before[1],
                    (double) (after[1] - before[1]) / Math.max(1, after[0] - before[0]));
            long deltas = ConcentratorLinks.deltasSent() - deltasBefore;
            progress.printf(Locale.ROOT, "sharded storm: the agents sent %d report deltas of their own (%.2f per placement, %.2f desktops"
                    + " each) and %d with an initiation's answer%n", deltas, (double) deltas / Math.max(1, storm.placed()),
                    (double) (ConcentratorLinks.deltaDesktopsSent() - deltaDesktopsBefore) / Math.max(1, deltas),
                    ConcentratorLinks.deltasWithAnswers() - withAnswersBefore);
            long doubles = doubleAssignments(cold, warm, storm);
            long unconfirmed = unconfirmed(cold, warm, storm);
            long assigned = fleet.agents().stream().mapToLong(SimulatedAgent::assignments).sum();
            long refused = fleet.agents().stream().mapToLong(SimulatedAgent::refusedInitiations).sum();
            progress.printf(Locale.ROOT, "sharded: %d sessions placed, %d assignments at the agents, %d initiations refused"
                    + " there (lost races), %d double (%d not held for their session at the agent right after the answer,"
                    + " %d named by another placement too)%n", cold.placed() + warm.placed() + storm.placed(), assigned, refused,
                    doubles, unconfirmed, doubles - unconfirmed);

            LogonStorm.Result central;
            try (CentralBroker c = new CentralBroker(desktopIds(fleet.agents()), secret)) {
                LogonStorm.Owners truth = (d, s) -> c.sessionOf(d).equals(s);
                report(progress, "central warm-up, one at a time", LogonStorm.run(List.of(c.target()), secret, "cold",
                        COLD_REQUESTS, 1, STORM_BUDGET, truth));
                report(progress, "central warm-up", LogonStorm.run(List.of(c.target()), secret, "warm", o.warmups(),
                        o.concurrency(), STORM_BUDGET, truth));
                central = LogonStorm.run(List.of(c.target()), secret, "storm", o.requests(), o.concurrency(), STORM_BUDGET, truth);
                report(progress, "central storm", central);
            }

            List<Concentrator> members = fleet.sets().get(REHOMED_SET);
            Concentrator doomed = members.stream().max(Comparator.comparingInt(Concentrator::load)).orElseThrow();
            Map<String, List<Desktop>> share = new LinkedHashMap<>();
            for (int i = 0; i < fleet.agents().size(); i++) {
                ConcentratorLinks l = fleet.links().get(i);
                if (doomed.id().equals(l.reportingTo().get(REHOMED_SET))) {
                    SimulatedAgent a = fleet.agents().get(i);
                    share.put(a.agentId(), a.desktops());
                }
            }
            long bytes = DirectoryFootprint.bytesPerDesktop(share);
            progress.printf(Locale.ROOT, "footprint: %d bytes per desktop at most, over concentrator %s's %d agents and"
                    + " %d desktops%n", bytes, doomed.id(), share.size(), doomed.load());

            long lostBefore = ConcentratorLinks.streamsLost();
            long closing = System.nanoTime();
            doomed.close();
            BrokerFleet.await("the agents of " + doomed.id() + " to report to another member of " + REHOMED_SET,
                    REHOME_TIMEOUT, () -> fleet.held(REHOMED_SET, doomed) == fleet.desktops());
            double rehomeMs = (System.nanoTime() - closing) / 1e6;
            progress.printf(Locale.ROOT, "rehome: %d agents of %s report to the rest of %s %.1f ms after its close"
                    + " (heartbeat interval %d ms)%n", share.size(), doomed.id(), REHOMED_SET, rehomeMs,
                    BrokerFleet.HEARTBEAT.toMillis());
            progress.printf(Locale.ROOT, "rehome: %d agent streams ended with their concentrator (one rate-limited WARN line for"
                    + " all of them)%n", ConcentratorLinks.streamsLost() - lostBefore);

            return new Result(storm.picksPerSecond(), storm.latencyMs(0.50), storm.latencyMs(0.99), doubles,
                    fleet.desktops(), central.picksPerSecond(), bytes, rehomeMs, storm.outcomes());
        } catch (IOException e) {
            throw new UncheckedIOException("bench broker could not start its fleet", e);
        }
    }

    /** The agents' own word on who holds a desktop: its agent's last published state. */
    static LogonStorm.Owners agentOwners(List<SimulatedAgent> agents) {
        Map<String, SimulatedAgent> byId = new HashMap<>();
        for (SimulatedAgent a : agents) byId.put(a.agentId(), a);
        return (desktopId, sessionId) -> {
            int slash = desktopId.indexOf('/');
            SimulatedAgent a = slash > 0 ? byId.get(desktopId.substring(0, slash)) : null;
            if (a == null) return false;
            List<Desktop> now = a.desktops(); // in the agent's order: <agentId>/<n> at n - 1
            int n;
            try {
                n = Integer.parseInt(desktopId.substring(slash + 1));
            } catch (NumberFormatException e) {
                return false;
            }
            if (n < 1 || n > now.size()) return false;
            Desktop d = now.get(n - 1);
            return d.getDesktopId().equals(desktopId) && d.getSessionId().equals(sessionId);
        };
    }

    /**
     * Sessions placed that their desktop's owner did not confirm right after the answer, or whose desktop
     * was also given to another session of these storms.
     */
    static long doubleAssignments(LogonStorm.Result... storms) {
        Map<String, Integer> named = new HashMap<>();
        for (LogonStorm.Result r : storms) {
            for (LogonStorm.Outcome o : r.outcomes()) if (o.placed()) named.merge(o.desktopId(), 1, Integer::sum);
        }
        long bad = 0;
        for (LogonStorm.Result r : storms) {
            for (LogonStorm.Outcome o : r.outcomes()) {
                if (o.placed() && (!o.confirmed() || named.get(o.desktopId()) > 1)) bad++;
            }
        }
        return bad;
    }

    /** Of {@link #doubleAssignments}: the placements their agent did not confirm right after the answer. */
    static long unconfirmed(LogonStorm.Result... storms) {
        long bad = 0;
        for (LogonStorm.Result r : storms) for (LogonStorm.Outcome o : r.outcomes()) if (o.placed() && !o.confirmed()) bad++;
        return bad;
    }

    private static List<String> desktopIds(List<SimulatedAgent> agents) {
        List<String> ids = new ArrayList<>();
        for (SimulatedAgent a : agents) for (Desktop d : a.desktops()) ids.add(d.getDesktopId());
        return ids;
    }

    /** One line: placed, rate, p50/p99, and each reason of the requests that got no desktop, counted. */
    private static void report(PrintStream progress, String what, LogonStorm.Result r) {
        Map<String, Integer> reasons = new TreeMap<>();
        Map<String, String> example = new HashMap<>();
        for (LogonStorm.Outcome o : r.outcomes()) {
            if (o.placed()) continue;
            String[] parts = o.reason().split(": ", 3);
            String key = parts.length >= 2 ? parts[0] + ": " + parts[1] : parts[0];
            reasons.merge(key, 1, Integer::sum);
            example.putIfAbsent(key, o.reason());
        }
        progress.printf(Locale.ROOT, "%s: %d of %d placed in %.1f s, %.0f picks/s, p50 %.1f ms, p99 %.1f ms, %.2f ms of CPU"
                        + " per request%s%n", what, r.placed(), r.outcomes().size(), r.wallNs() / 1e9, r.picksPerSecond(),
                r.latencyMs(0.50), r.latencyMs(0.99), r.cpuNs() / 1e6 / Math.max(1, r.outcomes().size()),
                reasons.isEmpty() ? "" : ", no desktop: " + reasons);
        for (String key : reasons.keySet()) progress.printf(Locale.ROOT, "  e.g. %s%n", example.get(key));
    }
}
