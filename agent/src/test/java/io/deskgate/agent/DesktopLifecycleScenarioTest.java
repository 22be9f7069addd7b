package io.deskgate.agent;

import io.deskgate.agent.DesktopLifecycle.Accepted;
import io.deskgate.agent.DesktopLifecycle.Action;
import io.deskgate.agent.DesktopLifecycle.Launch;
import io.deskgate.agent.DesktopLifecycle.Outcome;
import io.deskgate.agent.DesktopLifecycle.Rejected;
import io.deskgate.agent.DesktopLifecycle.RestartPolicy;
import io.deskgate.agent.DesktopLifecycle.ScramblePassword;
import io.deskgate.testkit.ScenarioScript;
import io.deskgate.testkit.ScenarioScript.Event;
import io.deskgate.control.Desktop;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * {@link DesktopLifecycle} replayed from {@code src/test/testdata/desktop-lifecycle/*.txt} (see
 * {@link ScenarioScript}; {@code -Ddeskgate.rewrite=true} rewrites the expectations).
 *
 * <p>Events: {@code start desktops=N [ttl= release= max-failures= backoff= max-backoff= stable=]} (first),
 * {@code launched desktop=N gen=G port=P}, {@code launch-failed desktop=N gen=G}, {@code exited desktop=N gen=G},
 * {@code viewers desktop=N count=C}, {@code tick}, {@code initiate desktop=N session=S tenant=T user=U},
 * {@code version desktop=N} (its version), {@code initiate ... expect=V} (a compare-and-set),
 * {@code started desktop=N session=S}, {@code end desktop=N session=S}, {@code state}. Any event may take
 * {@code at=<duration>}: the fake clock's time since the start (it never goes back). {@code desktop=N} is
 * the N-th desktop ({@code agent-1/N}); any other value is passed as the desktop id.
 */
class DesktopLifecycleScenarioTest {
    @TestFactory
    Stream<DynamicTest> scenarios() {
        return ScenarioScript.tests(Path.of("src/test/testdata/desktop-lifecycle"), Replay::new);
    }

    /** One file's core on a fake clock, and how its answers print. */
    static final class Replay implements Function<Event, List<String>> {
        private static final long S = 1_000_000_000L;
        /** The fake clock starts far from zero so that nothing depends on a zero epoch. */
        private static final long BASE = 1_000 * S;
        private DesktopLifecycle core;
        private long now = BASE;

        @Override
        public List<String> apply(Event e) {
            if (e.args().containsKey("at")) {
                long t = BASE + e.nanosArg("at");
                if (t < now) throw e.bad("time goes back");
                now = t;
            }
            if (core == null && !e.name().equals("start")) throw e.bad("the first event must be start");
            return switch (e.name()) {
                case "start" -> {
                    core = new DesktopLifecycle("agent-1", e.intArg("desktops"), 1280, 800, e.nanosArg("ttl", "60s"),
                            e.nanosArg("release", "2h"), new RestartPolicy(e.intArg("max-failures", 3),
                            e.nanosArg("backoff", "1s"), e.nanosArg("max-backoff", "4s"), e.nanosArg("stable", "60s")));
                    yield actions(core.start(now));
                }
                case "launched" -> actions(core.onLaunched(index(e), e.longArg("gen"), "127.0.0.1", e.intArg("port"), now));
                case "launch-failed" -> actions(core.onLaunchFailed(index(e), e.longArg("gen"), now));
                case "exited" -> actions(core.onExited(index(e), e.longArg("gen"), now));
                case "viewers" -> actions(core.onViewerCount(index(e), e.intArg("count"), now));
                case "tick" -> actions(core.tick(now));
                case "initiate" -> outcome(core.initiate(id(e), e.args().containsKey("expect") ? e.longArg("expect") : DesktopLifecycle.ANY_VERSION, e.arg("session"),
                        e.intArg("tenant"), e.arg("user"), now));
                case "version" -> List.of(core.desktopId(index(e)) + " version=" + core.snapshot(index(e)).getVersion());
                case "started" -> outcome(core.sessionStarted(id(e), e.arg("session"), now));
                case "end" -> outcome(core.endSession(id(e), e.arg("session"), now));
                case "state" -> {
                    List<String> out = new ArrayList<>();
                    for (int i = 0; i < core.size(); i++) out.add(desktop(core.snapshot(i)) + (core.gaveUp(i) ? " gave-up" : ""));
                    yield out;
                }
                default -> throw e.bad("unknown event");
            };
        }

        private int index(Event e) {
            int n = e.intArg("desktop");
            if (n < 1 || n > core.size()) throw e.bad("no desktop " + n);
            return n - 1;
        }

        private static String id(Event e) {
            String d = e.arg("desktop");
            return d.chars().allMatch(Character::isDigit) ? "agent-1/" + d : d;
        }

        private static List<String> actions(List<Action> actions) {
            List<String> out = new ArrayList<>();
            for (Action a : actions) {
                out.add(switch (a) {
                    case Launch(int index, long generation) -> "launch desktop=" + (index + 1) + " gen=" + generation;
                    case ScramblePassword(int index) -> "scramble-password desktop=" + (index + 1);
                });
            }
            return out;
        }

        private static List<String> outcome(Outcome o) {
            return switch (o) {
                case Accepted a -> {
                    List<String> out = new ArrayList<>();
                    out.add("accepted " + desktop(a.desktop()));
                    if (a.issuesPassword()) out.add("issue-password desktop=" + (a.index() + 1));
                    out.addAll(actions(a.actions()));
                    yield out;
                }
                case Rejected r -> List.of("rejected " + r.rejection() + " " + r.message());
            };
        }

        private static String desktop(Desktop d) {
            String line = d.getDesktopId() + " " + d.getState() + " port=" + d.getPort();
            if (!d.getSessionId().isEmpty() || !d.getUser().isEmpty()) {
                line += " session=" + d.getSessionId() + " tenant=" + d.getTenant() + " user=" + d.getUser();
            }
            return line;
        }
    }
}
