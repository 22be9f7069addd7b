package io.deskgate.bench;

import io.deskgate.agent.ConcentratorLinks;
import io.deskgate.agent.SimulatedAgent;
import io.deskgate.broker.SessionBroker;
import io.deskgate.common.DeskgateException;
import io.deskgate.common.Status;
import io.deskgate.concentrator.Concentrator;
import io.deskgate.concentrator.ConcentratorConfig;
import io.deskgate.control.ControlAuth;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/**
 * The sharded fleet of {@code deskgate bench broker}, in this JVM over real gRPC on loopback: {@code sets x
 * perSet} {@link Concentrator}s, {@link SimulatedAgent}s (the real lifecycle and its compare-and-set behind a
 * real Agent service, no Xvnc) each reporting through its own {@link ConcentratorLinks} to one concentrator of
 * every set, and {@link SessionBroker}s serving the gRPC Broker service. The registry is the list of
 * concentrators held here (their live loads, as the store's rows would carry). Every gRPC channel and server
 * runs on grpc-netty's shared event loops; each agent's server, each concentrator and each broker's FindDesktop
 * run their calls on those event loops (none blocks), the brokers' other calls on virtual threads; each agent's
 * links have one loop thread.
 *
 * <p>Built and closed by one thread; the accessors are safe from any thread. The caller must {@link #close()} it.
 */
final class BrokerFleet implements AutoCloseable {
    /** The agents' heartbeat interval and timeout (ConcentratorLinks' defaults); the concentrators' agent timeout is the timeout. */
    static final Duration HEARTBEAT = Duration.ofSeconds(2);
    static final Duration HEARTBEAT_TIMEOUT = Duration.ofSeconds(15);
    private static final long POLL_NS = 1_000_000;

    private final List<AutoCloseable> owned = new ArrayList<>();
    /** The registry: every concentrator started, closed ones too (a dead role's row stays until it times out). */
    private final List<Concentrator> listed = new CopyOnWriteArrayList<>();
    private final Map<String, List<Concentrator>> bySet = new LinkedHashMap<>();
    private final List<SimulatedAgent> agents = new ArrayList<>();
    private final List<ConcentratorLinks> links = new ArrayList<>();
    private final List<SessionBroker> brokers = new ArrayList<>();
    private final List<String> brokerTargets = new ArrayList<>();
    private int desktops;

    private BrokerFleet() {}

    /**
     * Starts the concentrators, then the agents ({@code desktops} in all, {@code perAgent} each, the last
     * one the rest), then the brokers; returns before the agents' reports have arrived ({@link #awaitRegistered}).
     */
    static BrokerFleet start(BrokerBench.Options o, byte[] secret) throws IOException {
        BrokerFleet f = new BrokerFleet();
        try {
            for (int s = 1; s <= o.sets(); s++) {
                String set = "set-" + s;
                List<Concentrator> members = new ArrayList<>();
                for (int c = 1; c <= o.concentratorsPerSet(); c++) {
                    Concentrator con = f.own(Concentrator.start(ConcentratorConfig.builder().id(set + "-c" + c).set(set)
                            .agentTimeout(HEARTBEAT_TIMEOUT).controlSecret(secret).build()));
                    members.add(con);
                    f.listed.add(con);
                }
                f.bySet.put(set, List.copyOf(members));
            }
            ConcentratorLinks.Registry registry = () -> f.listed.stream()
                    .map(c -> new ConcentratorLinks.Row(c.id(), c.set(), target(c), c.load())).toList();
            ControlAuth auth = new ControlAuth(secret);
            io.deskgate.control.SharedChannels shared = new io.deskgate.control.SharedChannels(auth);
            int agentCount = (o.desktops() + o.desktopsPerAgent() - 1) / o.desktopsPerAgent();
            for (int i = 1; i <= agentCount; i++) {
                int n = Math.min(o.desktopsPerAgent(), o.desktops() - (i - 1) * o.desktopsPerAgent());
                SimulatedAgent a = f.own(SimulatedAgent.start("agent-" + i, n, secret));
                ConcentratorLinks.Settings ls = ConcentratorLinks.Settings.of(a.agentId(), a.target()).withHeartbeat(HEARTBEAT, HEARTBEAT_TIMEOUT);
                ConcentratorLinks l = f.own(o.sharedAgentChannels()
                        ? ConcentratorLinks.start(ls, registry, a::desktops, auth, a::initiateSession, Runnable::run, shared)
                        : ConcentratorLinks.start(ls, registry, a::desktops, auth, a::initiateSession, Runnable::run));
                a.onDesktopsChanged(l::desktopsChanged);
                f.agents.add(a);
                f.links.add(l);
                f.desktops += n;
            }
            SessionBroker.Registry brokerRegistry = () -> f.listed.stream()
                    .map(c -> new SessionBroker.Row(c.id(), c.set(), target(c))).toList();
            for (int b = 0; b < o.brokers(); b++) {
                SessionBroker broker = f.own(new SessionBroker(SessionBroker.Settings.DEFAULT.withBroadcastLinger(
                        java.time.Duration.ofNanos(o.lingerMicros() * 1_000L), o.lingerBatch()), brokerRegistry, secret));
                f.brokers.add(broker);
                f.brokerTargets.add("127.0.0.1:" + broker.serve("127.0.0.1", 0));
            }
            return f;
        } catch (IOException | RuntimeException e) {
            f.close();
            throw e;
        }
    }

    private <T extends AutoCloseable> T own(T r) {
        owned.add(r);
        return r;
    }

    static String target(Concentrator c) {
        return "127.0.0.1:" + c.grpcPort();
    }

    int desktops() {
        return desktops;
    }

    List<SimulatedAgent> agents() {
        return agents;
    }

    List<ConcentratorLinks> links() {
        return links;
    }

    Map<String, List<Concentrator>> sets() {
        return bySet;
    }

    /** {@code host:port} of each broker's gRPC Broker service. */
    List<String> brokerTargets() {
        return brokerTargets;
    }

    /** Each broker connects to every concentrator ({@link SessionBroker#connect}); returns the channels connected. */
    int connectBrokers(Duration timeout) {
        int ready = 0;
        for (SessionBroker b : brokers) ready += b.connect(timeout);
        return ready;
    }

    /** FindAvailable broadcasts the brokers sent, and the requests' broadcasts those carried (coalescing). */
    long[] broadcasts() {
        long[] sum = new long[2];
        for (SessionBroker b : brokers) {
            long[] one = b.broadcasts();
            sum[0] += one[0];
            sum[1] += one[1];
        }
        return sum;
    }

    /** The desktops the concentrators of {@code set} hold now, closed ones left out. */
    long held(String set, Concentrator except) {
        long sum = 0;
        for (Concentrator c : bySet.get(set)) if (c != except) sum += c.load();
        return sum;
    }

    /** Waits until every set's concentrators hold every desktop (each agent reported to one member of each). */
    void awaitRegistered(Duration timeout) {
        await("every desktop reported to one concentrator of every set", timeout,
                () -> bySet.keySet().stream().allMatch(s -> held(s, null) == desktops));
    }

    /**
     * Polls {@code condition} every millisecond until it holds; past {@code timeout} the run fails naming
     * {@code what}. Returns the nanoseconds waited.
     */
    static long await(String what, Duration timeout, BooleanSupplier condition) {
        long start = System.nanoTime();
        long deadline = start + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline >= 0) {
                throw new DeskgateException(Status.INTERNAL_ERROR, "bench broker waited " + timeout.toSeconds()
                        + " s for " + what + " in vain");
            }
            LockSupport.parkNanos(POLL_NS);
        }
        return System.nanoTime() - start;
    }

    /** Closes brokers, agents' links, agents and concentrators, in the reverse order of their start. */
    @Override
    public void close() {
        for (AutoCloseable r : owned.reversed()) {
            try {
                r.close();
            } catch (Exception e) {
                // Closing the rest matters more; each close logs its own trouble.
            }
        }
        owned.clear();
    }
}
