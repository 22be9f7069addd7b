package io.deskgate.engine;

import io.deskgate.engine.InstanceCoreFixture.FakeDesktop;
import io.deskgate.testkit.ScenarioScript;
import io.deskgate.testkit.ScenarioScript.Event;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * The instance core's {@link Viewers} and {@link FlowControl} replayed from {@code src/test/testdata/viewers}
 * and {@code src/test/testdata/flow-control} (see {@link ScenarioScript}; {@code -Ddeskgate.rewrite=true}
 * rewrites the expectations). Any event may take {@code at=<duration>}: the fake clock's time since the
 * start (it never goes back).
 */
class ViewersFlowScenarioTest {
    @TestFactory
    Stream<DynamicTest> viewers() {
        return ScenarioScript.tests(Path.of("src/test/testdata/viewers"), ViewersReplay::new);
    }

    @TestFactory
    Stream<DynamicTest> flowControl() {
        return ScenarioScript.tests(Path.of("src/test/testdata/flow-control"), FlowReplay::new);
    }

    /** The fake clock of one file. */
    abstract static class Replay implements Function<Event, List<String>> {
        long now;

        @Override
        public final List<String> apply(Event e) {
            if (e.args().containsKey("at")) {
                long t = e.nanosArg("at");
                if (t < now) throw e.bad("time goes back");
                now = t;
            }
            return replay(e);
        }

        abstract List<String> replay(Event e);
    }

    /**
     * Events: {@code start [viewer-grace= attach-grace= peer-lost=]} (first), {@code ready},
     * {@code attach viewer=N}, {@code leave viewer=N}, {@code key viewer=N down|up keysym=K},
     * {@code pointer viewer=N x= y= buttons=}, {@code tick}, {@code peer timed-out|answering}, {@code state}.
     * Output: what the desktop is sent ({@code desktop ...}), then the end once it is decided.
     */
    static final class ViewersReplay extends Replay {
        private final FakeDesktop desktop = new FakeDesktop(200, 150);
        private final TreeSet<Integer> seen = new TreeSet<>();
        private Viewers viewers;
        private boolean endShown;

        @Override
        List<String> replay(Event e) {
            if (viewers == null && !e.name().equals("start")) throw e.bad("the first event must be start");
            List<String> out = new ArrayList<>();
            switch (e.name()) {
                case "start" -> viewers = new Viewers(desktop, InstanceLimits.builder()
                        .viewerGraceNs(e.nanosArg("viewer-grace", "60s")).attachGraceNs(e.nanosArg("attach-grace", "30s"))
                        .peerLostNs(e.nanosArg("peer-lost", "30s")).build());
                case "ready" -> viewers.onReady(now);
                case "attach" -> {
                    int v = viewer(e);
                    out.add((viewers.attach(v, now) ? "attached viewer=" : "refused viewer=") + v);
                }
                case "leave" -> viewers.leave(viewer(e), now);
                case "key" -> {
                    if (e.has("down") == e.has("up")) throw e.bad("say down or up");
                    viewers.onKey(viewer(e), e.has("down"), Long.decode(e.arg("keysym")));
                }
                case "pointer" -> viewers.onPointer(viewer(e), e.intArg("x"), e.intArg("y"), e.intArg("buttons"));
                case "tick" -> viewers.tick(now);
                case "peer" -> {
                    if (e.has("timed-out") == e.has("answering")) throw e.bad("say timed-out or answering");
                    viewers.onPeerTimeout(e.has("timed-out"), now);
                }
                case "state" -> out.add("attached=" + seen.stream().filter(viewers::attached).toList() + " places="
                        + viewers.size() + " ever-attached=" + viewers.everAttached());
                default -> throw e.bad("unknown event");
            }
            desktop.inputs.forEach(i -> out.add("desktop " + i));
            desktop.inputs.clear();
            viewers.endReason().filter(r -> !endShown).ifPresent(r -> {
                endShown = true;
                out.add("end " + r.cause() + " " + r.status() + " \"" + r.statusText() + "\": " + r.detail());
            });
            return out;
        }

        private int viewer(Event e) {
            int v = e.intArg("viewer");
            seen.add(v);
            return v;
        }
    }

    /**
     * Events: {@code start [max-frames= stall=]} (first; the desktop is ready), {@code sent},
     * {@code ack frame=<u32> server-us=<echoed server time in µs>}, {@code forget}, {@code tick}, {@code state}.
     * Output: each event's effect, and every lag handed to the {@link LagObserver}.
     */
    static final class FlowReplay extends Replay {
        private final List<String> lags = new ArrayList<>();
        private FlowControl flow;

        @Override
        List<String> replay(Event e) {
            if (flow == null && !e.name().equals("start")) throw e.bad("the first event must be start");
            List<String> out = new ArrayList<>();
            switch (e.name()) {
                case "start" -> {
                    flow = new FlowControl(InstanceLimits.builder().maxFramesInFlight(e.intArg("max-frames", 2))
                            .stallTimeoutNs(e.nanosArg("stall", "1s")).build(), (lag, average) -> lags.add("lag " + lag + "us average " + average + "us"));
                    flow.start(now);
                }
                case "sent" -> out.add("frame " + flow.frameSent(now) + " " + inFlight());
                case "ack" -> out.add((flow.onAck(e.longArg("frame"), e.longArg("server-us"), now) ? "acked " : "ignored ")
                        + inFlight());
                case "forget" -> {
                    flow.forgetInFlight();
                    out.add("forgot " + inFlight());
                }
                case "tick" -> {
                    if (flow.tick(now)) out.add("let-one-through " + inFlight() + " next-backoff=" + flow.stallBackoffNs() / 1_000_000 + "ms");
                }
                case "state" -> out.add(inFlight() + " sent=" + flow.framesSent() + " backoff=" + flow.stallBackoffNs() / 1_000_000
                        + "ms lag=" + flow.lagMicros() + "us average=" + flow.averageLagMicros() + "us");
                default -> throw e.bad("unknown event");
            }
            out.addAll(lags);
            lags.clear();
            return out;
        }

        private String inFlight() {
            return "in-flight=" + flow.framesInFlight() + " may-request=" + flow.mayRequest();
        }
    }
}
