package io.deskgate.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.offset;

import io.deskgate.testkit.Prerequisites;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** {@code deskgate bench open}: its numbers and its one result line (docs/benchmarks.md, "open"). */
class OpenBenchTest {
    private static final Pattern LINE = Pattern.compile("open: up_ready_ms=(\\d+) up_ready_warm_ms=(\\d+)"
            + " first_frame_ms_p50=(\\d+\\.\\d) first_frame_ms_max=(\\d+\\.\\d) full_picture_ms_p50=(\\d+\\.\\d)"
            + " rfb_direct_ms_p50=(\\d+\\.\\d) ratio_vs_direct=(\\d+\\.\\d\\d) opens=(\\d+)");

    @Test
    void shouldTakeTheNearestRankMedian() {
        assertThat(OpenBench.p50(List.of(3.0))).isEqualTo(3.0);
        assertThat(OpenBench.p50(List.of(3.0, 1.0, 2.0))).isEqualTo(2.0);
        assertThat(OpenBench.p50(List.of(4.0, 1.0, 3.0, 2.0))).isEqualTo(2.0);
    }

    @Test
    void shouldPrintTheResultLineWithARatioOfThePrintedMedians() {
        OpenBench.Result r = new OpenBench.Result(9000, 700, List.of(100.0, 90.0, 120.0),
                List.of(150.04, 140.0, 900.0), List.of(200.0, 160.0, 900.0), List.of(30.0, 29.96, 40.0));

        assertThat(r.line()).isEqualTo("open: up_ready_ms=9000 up_ready_warm_ms=700 first_frame_ms_p50=150.0"
                + " first_frame_ms_max=900.0 full_picture_ms_p50=200.0 rfb_direct_ms_p50=30.0 ratio_vs_direct=5.00 opens=3");
    }

    @Test
    void shouldRefuseFewerThanOneOpen() {
        assertThatThrownBy(() -> OpenBench.run(0, System.out)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void shouldMeasureOneOpenAgainstDirectRfbAndLeaveNothingBehind() throws IOException {
        Prerequisites.require("Xvnc", "tigervnc-standalone-server");
        Prerequisites.require("twm", "twm");
        Prerequisites.require("xterm", "xterm");
        Set<Long> xvncBefore = OpenBench.xvncDescendants();
        Set<Path> dataDirsBefore = benchDataDirs();
        ByteArrayOutputStream progress = new ByteArrayOutputStream();

        String line = OpenBench.run(1, new PrintStream(progress, true, StandardCharsets.UTF_8));

        Matcher m = LINE.matcher(line);
        assertThat(m.matches()).as("result line format: %s", line).isTrue();
        long upReady = Long.parseLong(m.group(1));
        long upReadyWarm = Long.parseLong(m.group(2));
        double firstP50 = Double.parseDouble(m.group(3));
        double firstMax = Double.parseDouble(m.group(4));
        double fullP50 = Double.parseDouble(m.group(5));
        double directP50 = Double.parseDouble(m.group(6));
        double ratio = Double.parseDouble(m.group(7));
        assertThat(upReady).isPositive();
        assertThat(upReadyWarm).isPositive();
        assertThat(firstP50).isPositive();
        assertThat(directP50).isPositive();
        assertThat(firstMax).as("one open: max is the median").isEqualTo(firstP50);
        assertThat(fullP50).as("the picture cannot be complete before the first frame").isGreaterThanOrEqualTo(firstP50);
        assertThat(ratio).isCloseTo(Math.round(firstP50 / directP50 * 100) / 100.0, offset(0.001));
        assertThat(m.group(8)).isEqualTo("1");
        assertThat(progress.toString(StandardCharsets.UTF_8)).contains("open 1/1:");

        assertThat(OpenBench.xvncDescendants()).as("Xvnc left behind").isSubsetOf(xvncBefore);
        assertThat(benchDataDirs()).as("data directory left behind").isSubsetOf(dataDirsBefore);
    }

    private static Set<Path> benchDataDirs() throws IOException {
        try (Stream<Path> s = Files.list(Path.of(System.getProperty("java.io.tmpdir")))) {
            return s.filter(p -> p.getFileName().toString().startsWith("deskgate-open-bench-")).collect(Collectors.toSet());
        }
    }
}
