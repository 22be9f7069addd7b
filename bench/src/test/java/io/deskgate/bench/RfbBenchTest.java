package io.deskgate.bench;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class RfbBenchTest {
    @Test
    void shouldReportDecodeRateAndFramesOfTheRecordingInOneLine() {
        String line = RfbBench.run(1);
        assertThat(line).matches("rfb: decode_mpix_per_s=\\d+\\.\\d frames=72");
        double rate = Double.parseDouble(line.replaceAll(".*=([0-9.]+) .*", "$1"));
        assertThat(rate).isPositive();
    }
}
