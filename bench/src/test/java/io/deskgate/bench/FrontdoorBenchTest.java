package io.deskgate.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.deskgate.testkit.Prerequisites;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * {@code deskgate bench frontdoor} scaled down (docs/benchmarks.md, "frontdoor"): 200 launches, 4 users, 2,000
 * API requests to each target. Asserts what holds whatever the machine's load: the line's format, every launch
 * succeeded, both targets answered (every answer 200 with the same bytes, or the run fails), the ratio computed
 * from the printed rates, nothing left behind (the temporary directory, HAProxy). Timings are printed, never asserted.
 */
class FrontdoorBenchTest {
    private static final Pattern LINE = Pattern.compile(
            "frontdoor: launches_per_s=(\\d+) launch_p99_ms=(\\d+\\.\\d) api_rps=(\\d+) api_ratio_vs_haproxy=(\\d+\\.\\d\\d)");

    @Test
    void shouldLaunchThroughTheFrontdoorAndCompareItsApiWithHaproxy() throws IOException {
        Prerequisites.require("haproxy", "haproxy");
        Set<Path> dirsBefore = benchDirs();
        ByteArrayOutputStream progress = new ByteArrayOutputStream();
        FrontdoorBench.Options o = new FrontdoorBench.Options(200, 4, 2_000, Duration.ofMinutes(10), HaproxyProxy.BINARY);

        FrontdoorBench.Result r = FrontdoorBench.run(o, new PrintStream(progress, true, StandardCharsets.UTF_8));

        Matcher m = LINE.matcher(r.line());
        assertThat(m.matches()).as("the line %s", r.line()).isTrue();
        assertThat(r.launchFailures()).as("failed launches").isZero();
        assertThat(r.launchesMeasured()).as("every measured launch answered").isEqualTo(200);
        assertThat(Long.parseLong(m.group(1))).as("launches_per_s").isPositive();
        assertThat(Double.parseDouble(m.group(2))).as("launch_p99_ms").isPositive();
        assertThat(Long.parseLong(m.group(3))).as("api_rps").isPositive();
        assertThat(r.apiAnswers()).as("frontdoor API answers").isEqualTo(2_000);
        assertThat(r.haproxyAnswers()).as("haproxy API answers").isEqualTo(2_000);
        double ratio = (double) Math.round(r.apiRps()) / Math.round(r.haproxyRps());
        assertThat(m.group(4)).isEqualTo(String.format(java.util.Locale.ROOT, "%.2f", ratio));
        String text = progress.toString(StandardCharsets.UTF_8);
        assertThat(text).contains("launches: 200 of 200 at 4 in flight").contains("launch latency: 100 at 2 in flight")
                .contains("api round 2:");
        assertThat(benchDirs()).as("directory left behind").isSubsetOf(dirsBefore);
        assertThat(haproxyChildren()).as("haproxy left running").isEmpty();
    }

    /** HAProxy processes this JVM started that are still alive. */
    private static Set<Long> haproxyChildren() {
        return ProcessHandle.current().descendants()
                .filter(p -> p.info().command().map(c -> c.endsWith("/haproxy")).orElse(false))
                .map(ProcessHandle::pid).collect(Collectors.toSet());
    }

    @Test
    void shouldPrintTheRatioOfThePrintedRates() {
        FrontdoorBench.Result r = new FrontdoorBench.Result(1234.4, 3.04, 10, 0, 8000.4, 9999.6, 1, 1);

        assertThat(r.line()).isEqualTo("frontdoor: launches_per_s=1234 launch_p99_ms=3.0 api_rps=8000 api_ratio_vs_haproxy=0.80");
    }

    @Test
    void shouldTakeNearestRankPercentiles() {
        FrontdoorBench.Launches l = new FrontdoorBench.Launches(java.util.List.of(3_000_000L, 1_000_000L, 2_000_000L, 4_000_000L),
                0, "", 2_000_000_000L);

        assertThat(l.percentileMs(0.5)).isEqualTo(2.0);
        assertThat(l.percentileMs(0.99)).isEqualTo(4.0);
        assertThat(l.perSecond()).isEqualTo(2.0);
    }

    @Test
    void shouldTakeTheOptionsFromFlagsAndRefuseBadOnes() {
        BenchCommand c = new BenchCommand();
        new CommandLine(c).parseArgs("frontdoor", "--launches", "500", "--concurrency", "8", "--duration-limit", "90s");
        assertThat(c.frontdoorOptions()).isEqualTo(new FrontdoorBench.Options(500, 8, 200_000, Duration.ofSeconds(90), HaproxyProxy.BINARY));

        BenchCommand bad = new BenchCommand();
        new CommandLine(bad).parseArgs("frontdoor", "--duration-limit", "soon");
        assertThatThrownBy(bad::frontdoorOptions).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--duration-limit");
        assertThat(new CommandLine(new BenchCommand()).execute("frontdoor", "--launches", "0")).isEqualTo(2);
    }

    private static Set<Path> benchDirs() throws IOException {
        try (Stream<Path> s = Files.list(Path.of(System.getProperty("java.io.tmpdir")))) {
            return s.filter(p -> p.getFileName().toString().startsWith("deskgate-frontdoor-bench-")).collect(Collectors.toSet());
        }
    }
}
