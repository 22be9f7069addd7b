package io.deskgate.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.deskgate.bench.workload.Workloads;
import io.deskgate.testkit.Prerequisites;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** {@code deskgate bench client} and the live input latency (docs/benchmarks.md, "client"). */
class ClientBenchTest {
    private static final String NUMBER = "\\d+\\.\\d";
    private static final String LINE = "client: w1_kbyte_s=%1$s w1_fps=%1$s w1_cpu_pct=%1$s w2_kbyte_s=%2$s w2_fps=%2$s w2_cpu_pct=%2$s"
            + " w3_kbyte_s=%2$s w3_fps=%2$s w3_cpu_pct=%2$s w4_kbyte_s=%2$s w4_fps=%2$s w4_cpu_pct=%2$s";

    @Test
    void shouldPrintEveryWorkloadOfTheLineAndNaForThoseNotRun() {
        ClientBench.WorkloadResult w1 = new ClientBench.WorkloadResult(Workloads.byId("w1"), 120_000, 590, 140, 10.0);
        ClientBench.Result r = new ClientBench.Result(List.of(w1), Optional.empty());

        assertThat(r.line()).isEqualTo("client: w1_kbyte_s=12.0 w1_fps=59.0 w1_cpu_pct=14.0 w2_kbyte_s=n/a w2_fps=n/a"
                + " w2_cpu_pct=n/a w3_kbyte_s=n/a w3_fps=n/a w3_cpu_pct=n/a w4_kbyte_s=n/a w4_fps=n/a w4_cpu_pct=n/a");
    }

    @Test
    void shouldRefuseW5WhichIsInputNotAProgram() {
        assertThatThrownBy(() -> ClientBench.workloads(List.of("w1", "w5"))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("w1..w4");
    }

    @Test
    void shouldTakeNearestRankPercentilesAndSubtractTheDirectOnes() {
        InputLatency.Result r = new InputLatency.Result(List.of(20.0, 10.0, 30.0, 40.0), List.of(2.0, 1.0, 4.0, 3.0));

        assertThat(InputLatency.percentile(List.of(5.0), 99)).isEqualTo(5.0);
        assertThat(r.addedP50Ms()).isEqualTo(20.0 - 2.0);
        assertThat(r.addedP99Ms()).isEqualTo(40.0 - 4.0);
        assertThat(r.line()).isEqualTo("input latency: browser_p50_ms=20.0 browser_p99_ms=40.0 direct_p50_ms=2.0"
                + " direct_p99_ms=4.0 added_p50_ms=18.0 added_p99_ms=36.0 presses=4");
    }

    @Test
    void shouldPutTheLiveAddedLatencyIntoTheTranscodeLineAndNaWithoutIt() {
        InputLatency.Result live = new InputLatency.Result(List.of(25.0, 21.0), List.of(10.0, 12.0));

        assertThat(TranscodeBench.line(List.of(), Optional.of(live)))
                .endsWith(" added_input_latency_p50_ms=11.0 added_input_latency_p99_ms=13.0");
        assertThat(TranscodeBench.line(List.of()))
                .endsWith(" added_input_latency_p50_ms=n/a added_input_latency_p99_ms=n/a");
    }

    @Test
    void shouldReadUtimePlusStimeEvenWhenTheCommandHoldsSpacesAndParentheses() {
        String stat = "4242 (chromium (x) y) S 1 4242 4242 0 -1 4194560 100 0 0 0 731 269 0 0 20 0 1 0 99 0 0";

        assertThat(ProcessCpu.parseTicks(stat)).isEqualTo(731 + 269);
        assertThat(ProcessCpu.spent(Map.of(1L, 100L, 2L, 50L), Map.of(1L, 130L, 3L, 7L))).isEqualTo(30 + 7);
    }

    @Test
    void shouldMeasureW1InChromiumAndTheInputLatencyOnALiveDesktop() {
        for (String[] need : new String[][] {{"Xvnc", "tigervnc-standalone-server"}, {"twm", "twm"}, {"xterm", "xterm"},
                {"chromium", "chromium"}}) {
            Prerequisites.require(need[0], need[1]);
        }
        ByteArrayOutputStream progress = new ByteArrayOutputStream();

        ClientBench.Result r = ClientBench.run(ClientBench.workloads(List.of("w1")), Duration.ofMillis(1500), Duration.ofSeconds(2), 2,
                new PrintStream(progress, true, StandardCharsets.UTF_8));

        assertThat(r.line()).matches(String.format(LINE, NUMBER, "n/a"));
        ClientBench.WorkloadResult w1 = r.workloads().getFirst();
        assertThat(w1.bytes()).as("bytes on the viewer's WebSocket").isPositive();
        assertThat(w1.frames()).as("frames the viewer drew").isPositive();
        assertThat(w1.cpuTicks()).as("Chromium's CPU").isPositive();
        assertThat(r.latency()).hasValueSatisfying(l -> {
            assertThat(l.browserMs()).hasSize(2).allMatch(ms -> ms > 0);
            assertThat(l.directMs()).hasSize(2).allMatch(ms -> ms > 0);
        });
        assertThat(progress.toString(StandardCharsets.UTF_8)).contains("w1-scroll: kbyte_s=").contains("input latency: browser_p50_ms=");
    }
}
