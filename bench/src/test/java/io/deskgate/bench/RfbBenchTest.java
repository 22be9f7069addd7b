package io.deskgate.bench;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class RfbBenchTest {
    @Test
    void shouldReportDecodeRateAndFramesOfTheRecordingInOneLine() {
        String line = RfbBench.run(1);
        assertThat(line).matches("rfb: decode_mpix_per_s=\\d+\\.\\d frames=72 copy_mpix_per_s=\\d+\\.\\d ratio_to_copy=\\d+\\.\\d{3}");
        double decode = Double.parseDouble(line.replaceAll(".*decode_mpix_per_s=([0-9.]+) .*", "$1"));
        double copy = Double.parseDouble(line.replaceAll(".*copy_mpix_per_s=([0-9.]+) .*", "$1"));
        double ratio = Double.parseDouble(line.replaceAll(".*ratio_to_copy=([0-9.]+)$", "$1"));
        assertThat(decode).isPositive();
        assertThat(copy).isPositive();
        assertThat(ratio).isCloseTo(decode / copy, org.assertj.core.data.Offset.offset(0.01 + ratio * 0.01));
    }
}
