package io.deskgate.broker;

import io.deskgate.broker.Placement.Action;
import io.deskgate.broker.Placement.Broadcast;
import io.deskgate.broker.Placement.Done;
import io.deskgate.broker.Placement.Failed;
import io.deskgate.broker.Placement.Initiate;
import io.deskgate.broker.Placement.InitiateResult;
import io.deskgate.broker.Placement.Request;
import io.deskgate.broker.PlacementChoice.AssignmentPolicy;
import io.deskgate.common.RateLimitedLog;
import io.deskgate.control.DesktopState;
import io.deskgate.testkit.ScenarioScript;
import io.deskgate.testkit.ScenarioScript.Event;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.slf4j.LoggerFactory;

/**
 * {@link Placement} (with {@link SetRotation}, {@link AvailableMerge}, {@link PlacementChoice}) replayed from
 * {@code src/test/testdata/placement/*.txt} ({@link ScenarioScript}; {@code -Ddeskgate.rewrite=true} rewrites).
 *
 * <p>Events: {@code start sets=A:a1,a2;B:b1 [failing=a2,b1] [user=alice tenant=1 pool=gold policy=floating
 * spread=0 deadline=2s answer=200ms]} (a new request; the set rotation is shared by the file's requests);
 * {@code answer from=C [offers=ID:STATE[:user]:VERSION,...]}; {@code answer-failed from=C};
 * {@code initiated desktop=ID result=WON|LOST_RACE|REFUSED|UNREACHABLE}; {@code tick}. Any event may take
 * {@code at=<duration>} (the fake clock's time since the start of the file); deadlines print the same way.
 */
class PlacementScenarioTest {
    @TestFactory
    Stream<DynamicTest> scenarios() {
        return ScenarioScript.tests(Path.of("src/test/testdata/placement"), Replay::new);
    }

    static final class Replay implements Function<Event, List<String>> {
        private static final long BASE = 9_000_000_000_000L;
        private final SetRotation rotation = new SetRotation();
        private final RateLimitedLog log = new RateLimitedLog(LoggerFactory.getLogger(PlacementScenarioTest.class), 100,
                Duration.ofSeconds(10), () -> 0L);
        private Placement placement;
        private long now = BASE;

        @Override
        public List<String> apply(Event e) {
            if (e.args().containsKey("at")) {
                long t = BASE + e.nanosArg("at");
                if (t < now) throw e.bad("time goes back");
                now = t;
            }
            if (placement == null && !e.name().equals("start")) throw e.bad("the first event must be start");
            return switch (e.name()) {
                case "start" -> {
                    Request r = new Request("s-" + e.line(), e.intArg("tenant", 1), e.arg("pool", "gold"), e.arg("user", "alice"),
                            AssignmentPolicy.valueOf(e.arg("policy", "floating").toUpperCase(Locale.ROOT)), e.intArg("spread", 0));
                    placement = new Placement(r, now + e.nanosArg("deadline", "2s"), e.nanosArg("answer", "200ms"), rotation, log);
                    yield print(placement.start(sets(e), now));
                }
                case "answer" -> print(placement.onAnswer(e.arg("from"), offers(e), now));
                case "answer-failed" -> print(placement.onAnswerFailed(e.arg("from"), now));
                case "initiated" -> print(placement.onInitiated(e.arg("desktop"), InitiateResult.valueOf(e.arg("result")), now));
                case "tick" -> print(placement.tick(now));
                default -> throw e.bad("unknown event");
            };
        }

        private static List<ConcentratorSet> sets(Event e) {
            Set<String> failing = Set.of(e.arg("failing", "").split(","));
            List<ConcentratorSet> out = new ArrayList<>();
            for (String set : e.arg("sets").split(";")) {
                String[] idMembers = set.split(":");
                List<String> members = Arrays.asList(idMembers[1].split(","));
                out.add(new ConcentratorSet(idMembers[0], members, members.stream().filter(failing::contains)
                        .collect(java.util.stream.Collectors.toSet())));
            }
            return out;
        }

        private static List<Offer> offers(Event e) {
            List<Offer> out = new ArrayList<>();
            String all = e.arg("offers", "");
            if (all.isEmpty()) return out;
            for (String o : all.split(",")) {
                String[] f = o.split(":");
                String user = f.length == 4 ? f[2] : "";
                String id = f[0];
                out.add(new Offer(id, id.substring(0, id.lastIndexOf('/')), e.arg("from"), DesktopState.valueOf(f[1]), 1, user,
                        Long.parseLong(f[f.length - 1])));
            }
            return out;
        }

        private static String time(long ns) {
            long rel = ns - BASE;
            return rel % 1_000_000 == 0 ? rel / 1_000_000 + "ms" : rel + "ns";
        }

        private static List<String> print(List<Action> actions) {
            List<String> out = new ArrayList<>();
            for (Action a : actions) {
                out.add(switch (a) {
                    case Broadcast b -> "broadcast set=" + b.setId() + " to=" + String.join(",", b.concentrators())
                            + " until=" + time(b.answerDeadlineNs());
                    case Initiate i -> "initiate " + i.offer().desktopId() + " via " + i.offer().concentratorId() + " v"
                            + i.offer().version() + " (" + i.offer().state() + (i.offer().user().isEmpty() ? "" : " " + i.offer().user()) + ")";
                    case Done d -> "done " + d.offer().desktopId() + " via " + d.offer().concentratorId();
                    case Failed f -> "failed " + f.reason() + ": " + f.message();
                });
            }
            return out;
        }
    }
}
