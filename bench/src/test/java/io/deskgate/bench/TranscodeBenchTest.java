package io.deskgate.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.deskgate.bench.workload.Workloads;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** {@code bench transcode} on W1..W5, replayed as fast as possible: the line's format, and bytes and frames that exist (never timings). */
class TranscodeBenchTest {
    @Test
    void shouldReplayEveryWorkloadThroughTheEngineAndReportOneLine() {
        ByteArrayOutputStream progress = new ByteArrayOutputStream();
        String line = TranscodeBench.run(Workloads.all(), false, false, new PrintStream(progress, true, StandardCharsets.UTF_8));
        String n = "\\d+\\.\\d+";
        assertThat(line).matches("transcode: w1_kbyte_s=" + n + " w1_fps=" + n + " w2_kbyte_s=" + n
                + " bytes_ratio_vs_tight_text=" + n + " bytes_ratio_vs_tight_photo=" + n + " psnr_db=(" + n + "|n/a)"
                + " mpix_per_s_per_core=" + n + " engine_cpu_pct_w1=" + n
                + " added_input_latency_p50_ms=n/a added_input_latency_p99_ms=n/a");
        String lines = progress.toString(StandardCharsets.UTF_8);
        assertThat(lines.lines()).hasSize(5);
        for (String l : lines.lines().toList()) {
            long bytes = Long.parseLong(l.replaceAll(".* stream_bytes=(\\d+) .*", "$1"));
            long frames = Long.parseLong(l.replaceAll(".* frames=(\\d+) .*", "$1"));
            long tight = Long.parseLong(l.replaceAll(".* tight_[a-z0-9-]+_bytes=(\\d+) .*", "$1"));
            assertThat(bytes).as(l).isPositive();
            assertThat(frames).as(l).isPositive();
            assertThat(tight).as(l).isPositive();
            long estimate = Long.parseLong(l.replaceAll(".* est_zstream_l6_bytes=(\\d+) .*", "$1"));
            long tiles = Long.parseLong(l.replaceAll(".* tiles_sent=(\\d+) .*", "$1"));
            assertThat(tiles).as(l).isPositive();
            assertThat(estimate).as(l).isPositive();
            long lossyBytes = Long.parseLong(l.replaceAll(".* lossy_bytes=(\\d+) .*", "$1"));
            assertThat(lossyBytes).as(l).isBetween(0L, bytes);
            assertThat(l).as(l).matches(".* lossy_tiles=\\d+ lossy_bytes=\\d+ lossy_psnr_db=(\\d+\\.\\d|n/a) mpix_in=.* stream_crc32c=[0-9a-f]{8}$");
        }
        assertThat(Double.parseDouble(line.replaceAll(".* w1_kbyte_s=([0-9.]+) .*", "$1"))).isPositive();
    }
}
