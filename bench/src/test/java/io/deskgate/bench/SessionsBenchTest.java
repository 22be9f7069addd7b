package io.deskgate.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code bench sessions} with two, then three sessions, briefly: the lines' format and frames that arrived (never timings). */
class SessionsBenchTest {
    @Test
    void shouldStreamW1SessionsThroughARealEngineAndReportOneLine() {
        ByteArrayOutputStream progress = new ByteArrayOutputStream();
        String line = SessionsBench.run(List.of(2, 3), Duration.ofSeconds(1), Duration.ofSeconds(2),
                new PrintStream(progress, true, StandardCharsets.UTF_8));
        String n = "\\d+\\.\\d+";
        assertThat(line).matches("sessions: heavy_sessions=(0|2|3) p95_frame_delay_ms=" + n + " engine_cpu_pct_per_session=" + n);
        List<String> steps = progress.toString(StandardCharsets.UTF_8).lines().toList();
        assertThat(steps).isNotEmpty();
        String first = steps.getFirst();
        assertThat(first).matches("sessions-step: sessions=2 frames=\\d+ p95_frame_delay_ms=" + n + " p95_update_lateness_ms=" + n
                + " engine_cpu_pct_per_session=" + n + " sessions_without_frames=\\d+ load=-?" + n
                + " process_cpu_pct=" + n + " bench_cpu_pct=" + n + " ok=(true|false)");
        assertThat(Long.parseLong(first.replaceAll(".* frames=(\\d+) .*", "$1"))).as(first).isPositive();
        assertThat(Double.parseDouble(first.replaceAll(".* engine_cpu_pct_per_session=([0-9.]+) .*", "$1"))).as(first).isPositive();
    }
}
