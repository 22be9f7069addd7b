package io.deskgate.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * {@code deskgate bench broker} scaled down (docs/benchmarks.md, "broker"; issue 8, "How it is checked"):
 * the whole run on 2,000 desktops and 500 requests, 4 sets x 8 concentrators, 4 brokers. Asserts what must
 * hold whatever the machine's load: no double assignment, the one line's format, every request placed or
 * refused with a reason, re-homing observed. Timings are printed, never asserted.
 */
class BrokerBenchTest {
    private static final Pattern LINE = Pattern.compile("broker: picks_per_s=(\\d+) p50_ms=(\\d+\\.\\d) p99_ms=(\\d+\\.\\d)"
            + " double_assignments=(\\d+) desktops=(\\d+) ratio_vs_central=(\\d+\\.\\d\\d) bytes_per_desktop=(\\d+)"
            + " rehome_ms=(\\d+\\.\\d)");
    /** A refusal as the brokers give it: the gRPC code, then the Placement reason and what each set did. */
    private static final Pattern REASON = Pattern.compile("RESOURCE_EXHAUSTED: (NO_DESKTOP|NO_CONCENTRATOR|DEADLINE): .+");

    @Test
    void shouldPlaceEveryRequestOnceAtScaleDownAndPrintTheOneLine() {
        ByteArrayOutputStream progress = new ByteArrayOutputStream();
        BrokerBench.Options o = new BrokerBench.Options(2_000, 500, 4, 8, 4, 100, 16);

        BrokerBench.Result r = BrokerBench.run(o, new PrintStream(progress, true, StandardCharsets.UTF_8));

        Matcher m = LINE.matcher(r.line());
        assertThat(m.matches()).as("the line %s", r.line()).isTrue();
        assertThat(m.group(4)).as("double_assignments").isEqualTo("0");
        assertThat(m.group(5)).as("desktops").isEqualTo("2000");
        assertThat(Long.parseLong(m.group(7))).as("bytes_per_desktop").isPositive();
        assertThat(Double.parseDouble(m.group(8))).as("rehome_ms: the re-homing was observed").isPositive();
        assertThat(r.outcomes()).hasSize(500);
        Set<String> desktops = new HashSet<>();
        for (LogonStorm.Outcome out : r.outcomes()) {
            if (out.placed()) {
                assertThat(out.confirmed()).as("%s confirmed by its agent", out).isTrue();
                assertThat(desktops.add(out.desktopId())).as("%s on a desktop of its own", out).isTrue();
                assertThat(out.desktopId()).matches("agent-\\d+/\\d+");
            } else {
                assertThat(out.reason()).as("%s refused with a reason", out).matches(REASON);
            }
        }
        // 2,000 desktops for 50 warm-up and 500 storm sessions: a refusal here would be a broker's failure.
        assertThat(desktops).as("every request placed").hasSize(500);
        String text = progress.toString(StandardCharsets.UTF_8);
        assertThat(text).contains("fleet: 32 concentrators in 4 sets, 20 agents, 2000 desktops, 4 brokers")
                .contains("sharded storm: 500 of 500 placed").contains("central storm: 500 of 500 placed")
                .containsPattern("rehome: \\d+ agents of set-1-c\\d report to the rest of set-1");
    }

    @Test
    void shouldPlaceEveryRequestOnceWithTheBrokersBroadcastLingerOn() {
        ByteArrayOutputStream progress = new ByteArrayOutputStream();
        // A 5 ms linger, ended early at 8 requests: the batches are sent by the broker's linger tick.
        BrokerBench.Options o = new BrokerBench.Options(2_000, 500, 4, 8, 4, 100, 16, 0, 5_000, 8);

        BrokerBench.Result r = BrokerBench.run(o, new PrintStream(progress, true, StandardCharsets.UTF_8));

        Matcher m = LINE.matcher(r.line());
        assertThat(m.matches()).as("the line %s", r.line()).isTrue();
        assertThat(m.group(4)).as("double_assignments").isEqualTo("0");
        Set<String> desktops = new HashSet<>();
        for (LogonStorm.Outcome out : r.outcomes()) {
            assertThat(out.placed()).as("%s placed", out).isTrue();
            assertThat(out.confirmed()).as("%s confirmed by its agent", out).isTrue();
            assertThat(desktops.add(out.desktopId())).as("%s on a desktop of its own", out).isTrue();
        }
        assertThat(desktops).as("every request placed").hasSize(500);
        assertThat(progress.toString(StandardCharsets.UTF_8)).contains("sharded storm: 500 of 500 placed")
                .containsPattern("sharded storm: \\d+ FindAvailable broadcasts carried \\d+ requests'");
    }

    @Test
    void shouldPlaceEveryRequestOnceWithTheAgentsStreamsOnSharedChannelsAndTheirDeltasWithTheAnswers() {
        ByteArrayOutputStream progress = new ByteArrayOutputStream();
        BrokerBench.Options o = new BrokerBench.Options(2_000, 500, 4, 8, 4, 100, 16, 0, 0, 8, true);

        BrokerBench.Result r = BrokerBench.run(o, new PrintStream(progress, true, StandardCharsets.UTF_8));

        Matcher m = LINE.matcher(r.line());
        assertThat(m.matches()).as("the line %s", r.line()).isTrue();
        assertThat(m.group(4)).as("double_assignments").isEqualTo("0");
        assertThat(Double.parseDouble(m.group(8))).as("rehome_ms: the re-homing was observed on shared channels").isPositive();
        Set<String> desktops = new HashSet<>();
        for (LogonStorm.Outcome out : r.outcomes()) {
            assertThat(out.placed()).as("%s placed", out).isTrue();
            assertThat(out.confirmed()).as("%s confirmed by its agent", out).isTrue();
            assertThat(desktops.add(out.desktopId())).as("%s on a desktop of its own", out).isTrue();
        }
        assertThat(desktops).as("every request placed").hasSize(500);
        String text = progress.toString(StandardCharsets.UTF_8);
        assertThat(text).contains("one channel per concentrator shared by all agents");
        Matcher d = Pattern.compile("the agents sent (\\d+) report deltas of their own \\(([0-9.]+) per placement, [0-9.]+ desktops"
                + " each\\) and (\\d+) with an initiation's answer").matcher(text);
        assertThat(d.find()).as("the deltas line in %s", text).isTrue();
        // Each placement's ASSIGNED goes to 4 sets: 3 as deltas, 1 with the answer (a few lost races' answers carry none).
        assertThat(Long.parseLong(d.group(3))).as("deltas with the answers").isGreaterThan(400);
        assertThat(Double.parseDouble(d.group(2))).as("deltas of their own per placement").isLessThan(3.5);
    }

    @Test
    void shouldCountAPlacementItsAgentDoesNotHoldOrASharedDesktopAsDouble() {
        LogonStorm.Result storm = new LogonStorm.Result(List.of(
                new LogonStorm.Outcome("s-1", "agent-1/1", "", 1, true),
                new LogonStorm.Outcome("s-2", "agent-1/2", "", 1, false),
                new LogonStorm.Outcome("s-3", "agent-1/3", "", 1, true),
                new LogonStorm.Outcome("s-4", "", "RESOURCE_EXHAUSTED: NO_DESKTOP: none", 1, false)), 1);
        LogonStorm.Result later = new LogonStorm.Result(List.of(
                new LogonStorm.Outcome("s-5", "agent-1/3", "", 1, true)), 1);

        assertThat(BrokerBench.doubleAssignments(storm)).isEqualTo(1);
        assertThat(BrokerBench.doubleAssignments(storm, later)).as("agent-1/3 given to s-3 and s-5").isEqualTo(3);
    }

    @Test
    void shouldTakeNearestRankPercentilesOfTheSentRequests() {
        LogonStorm.Result r = new LogonStorm.Result(List.of(
                new LogonStorm.Outcome("a", "x/1", "", 3_000_000, true),
                new LogonStorm.Outcome("b", "x/2", "", 1_000_000, true),
                new LogonStorm.Outcome("c", "x/3", "", 2_000_000, true),
                new LogonStorm.Outcome("d", "", "NOT_SENT: budget", -1, false)), 2_000_000_000L);

        assertThat(r.latencyMs(0.5)).isEqualTo(2.0);
        assertThat(r.latencyMs(0.99)).isEqualTo(3.0);
        assertThat(r.picksPerSecond()).isEqualTo(1.5);
    }

    @Test
    void shouldPrintTheRatioOfThePrintedRates() {
        BrokerBench.Result r = new BrokerBench.Result(1234.4, 5.04, 19.96, 0, 100_000, 4321.6, 211, 812.34, List.of());

        assertThat(r.line()).isEqualTo("broker: picks_per_s=1234 p50_ms=5.0 p99_ms=20.0 double_assignments=0"
                + " desktops=100000 ratio_vs_central=0.29 bytes_per_desktop=211 rehome_ms=812.3");
    }

    @Test
    void shouldTakeTheScaleFromFlagsAndRefuseAgentsOfMoreThan999Desktops() {
        BenchCommand c = new BenchCommand();
        new CommandLine(c).parseArgs("broker", "--desktops", "2000", "--requests", "500");
        assertThat(c.brokerOptions()).isEqualTo(new BrokerBench.Options(2_000, 500, 4, 8, 4, 200, 32));

        BenchCommand bad = new BenchCommand();
        new CommandLine(bad).parseArgs("broker", "--desktops-per-agent", "1000");
        assertThatThrownBy(bad::brokerOptions).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--desktops-per-agent must be 1 to 999");
        assertThat(new CommandLine(new BenchCommand()).execute("broker", "--requests", "0")).isEqualTo(2);
    }
}
