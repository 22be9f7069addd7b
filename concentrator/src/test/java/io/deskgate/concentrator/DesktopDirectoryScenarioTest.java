package io.deskgate.concentrator;

import io.deskgate.concentrator.DesktopDirectory.Accepted;
import io.deskgate.concentrator.DesktopDirectory.Limits;
import io.deskgate.concentrator.DesktopDirectory.Outcome;
import io.deskgate.concentrator.DesktopDirectory.Rejected;
import io.deskgate.concentrator.DesktopDirectory.Rejection;
import io.deskgate.control.DesktopState;
import io.deskgate.testkit.ScenarioScript;
import io.deskgate.testkit.ScenarioScript.Event;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * {@link DesktopDirectory} replayed from {@code src/test/testdata/desktop-directory/*.txt} (see
 * {@link ScenarioScript}; {@code -Ddeskgate.rewrite=true} rewrites the expectations).
 *
 * <p>Events: {@code start [timeout=15s max-report=N max-find=N]} (first);
 * {@code connect agent=A conn=C}; {@code report agent=A conn=C [full] [tenant=T] dN=STATE[:user][@pool][#version] ...
 * [id=RAW] [bulk=N]} ({@code dN} is desktop {@code A/N}; pool {@code gold} and tenant 1 unless given; the version
 * is one more than the desktop's last unless given; {@code id=} reports a raw desktop id as AVAILABLE,
 * {@code bulk=N} reports desktops 1..N AVAILABLE); {@code heartbeat agent= conn=}; {@code close agent= conn=};
 * {@code tick}; {@code find tenant=T pool=P [user=U | users=U1,U2,...] limit=N} (users: the
 * coalesced form); {@code counts}. Any event may take
 * {@code at=<duration>} on the fake clock.
 */
class DesktopDirectoryScenarioTest {
    @TestFactory
    Stream<DynamicTest> scenarios() {
        return ScenarioScript.tests(Path.of("src/test/testdata/desktop-directory"), Replay::new);
    }

    static final class Replay implements Function<Event, List<String>> {
        private static final long S = 1_000_000_000L;
        private static final long BASE = 5_000 * S;
        private DesktopDirectory core;
        private long now = BASE;
        private final Map<String, Long> versions = new HashMap<>();

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
                    core = new DesktopDirectory(new Limits(e.nanosArg("timeout", "15s"), e.intArg("max-report", 16),
                            e.intArg("max-find", 8)));
                    yield List.of();
                }
                case "connect" -> outcome(core.connect(e.arg("agent"), e.longArg("conn"), now));
                case "report" -> outcome(core.report(e.arg("agent"), e.longArg("conn"), e.has("full"), desktops(e), now));
                case "heartbeat" -> outcome(core.heartbeat(e.arg("agent"), e.longArg("conn"), now));
                case "close" -> {
                    core.disconnected(e.arg("agent"), e.longArg("conn"), now);
                    yield List.of();
                }
                case "tick" -> core.tick(now).stream().map(a -> "forgot " + a).toList();
                case "find" -> {
                    List<DesktopView> found = e.args().containsKey("users")
                            ? core.findAvailable(e.intArg("tenant"), e.arg("pool"), List.of(e.arg("users").split(",", -1)),
                            e.intArg("limit"))
                            : core.findAvailable(e.intArg("tenant"), e.arg("pool"), e.arg("user", ""), e.intArg("limit"));
                    List<String> out = found.stream().map(v -> v.desktopId() + " " + v.state()
                            + (v.user().isEmpty() ? "" : " user=" + v.user()) + " v" + v.version()).toList();
                    yield out.isEmpty() ? List.of("none") : out;
                }
                case "counts" -> {
                    StringBuilder line = new StringBuilder("agents=" + core.agents() + " desktops=" + core.desktops()
                            + " pools=" + core.pools());
                    for (Rejection r : Rejection.values()) if (core.rejected(r) > 0) line.append(' ').append(r).append('=').append(core.rejected(r));
                    yield List.of(line.toString());
                }
                default -> throw e.bad("unknown event");
            };
        }

        private List<DesktopReport> desktops(Event e) {
            String agent = e.arg("agent");
            int tenant = e.intArg("tenant", 1);
            List<DesktopReport> out = new ArrayList<>();
            // the event's arguments are unordered: desktops go in number order, then id=, then bulk=
            List<String> keys = e.args().keySet().stream().sorted(java.util.Comparator.comparingInt(
                    (String k) -> k.matches("d[0-9]+") ? Integer.parseInt(k.substring(1)) : k.equals("id") ? 100_000 : 200_000)).toList();
            for (String k : keys) {
                var arg = Map.entry(k, e.args().get(k));
                if (k.matches("d[0-9]+")) {
                    String v = arg.getValue();
                    long version = -1;
                    String pool = "gold";
                    int hash = v.indexOf('#');
                    if (hash >= 0) {
                        version = Long.parseLong(v.substring(hash + 1));
                        v = v.substring(0, hash);
                    }
                    int at = v.indexOf('@');
                    if (at >= 0) {
                        pool = v.substring(at + 1);
                        v = v.substring(0, at);
                    }
                    int colon = v.indexOf(':');
                    String user = colon >= 0 ? v.substring(colon + 1) : "";
                    DesktopState state = DesktopState.valueOf(colon >= 0 ? v.substring(0, colon) : v);
                    String id = agent + "/" + k.substring(1);
                    out.add(new DesktopReport(id, state, tenant, pool, user, version(id, version)));
                } else if (k.equals("id")) {
                    out.add(new DesktopReport(arg.getValue(), DesktopState.AVAILABLE, tenant, "gold", "", 1));
                } else if (k.equals("bulk")) {
                    for (int n = 1; n <= e.intArg("bulk"); n++) {
                        String id = agent + "/" + n;
                        out.add(new DesktopReport(id, DesktopState.AVAILABLE, tenant, "gold", "", version(id, -1)));
                    }
                }
            }
            return out;
        }

        private long version(String id, long given) {
            long v = given >= 0 ? given : versions.getOrDefault(id, 0L) + 1;
            versions.put(id, v);
            return v;
        }

        private static List<String> outcome(Outcome o) {
            return switch (o) {
                case Accepted(int desktops) -> List.of("accepted desktops=" + desktops);
                case Rejected(Rejection r, String message) -> List.of("rejected " + r + ": " + message);
            };
        }
    }
}
