package io.deskgate.agent;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class RfbViewerCountTest {
    /** Recorded /proc/net/tcp layout: a listener on 5977 (0A), two established peers, one TIME_WAIT (06). */
    private static final String TABLE = """
              sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
               0: 0100007F:1759 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0000000000000000 100 0 0 10 0
               1: 0100007F:1759 0100007F:D3A2 01 00000000:00000000 00:00000000 00000000     0        0 2 1 0000000000000000 20 4 30 10 -1
               2: 0100007F:D3A2 0100007F:1759 01 00000000:00000000 00:00000000 00000000     0        0 3 1 0000000000000000 20 4 30 10 -1
               3: 0100007F:1759 0100007F:D3A4 06 00000000:00000000 03:00000000 00000000     0        0 0 3 0000000000000000
               4: 0100007F:1759 0100007F:D3B0 01 00000000:00000000 00:00000000 00000000     0        0 4 1 0000000000000000 20 4 30 10 -1
            """;

    @Test
    void shouldCountOnlyEstablishedConnectionsWhoseLocalPortIsTheRfbPort() {
        assertThat(RfbViewerCount.count(TABLE, 5977)).isEqualTo(2);
        assertThat(RfbViewerCount.count(TABLE, 0xD3A2)).isEqualTo(1);
        assertThat(RfbViewerCount.count(TABLE, 5900)).isZero();
    }

    @Test
    void shouldIgnoreGarbage() {
        assertThat(RfbViewerCount.count("", 5977)).isZero();
        assertThat(RfbViewerCount.count("x\n 0: short\n", 5977)).isZero();
    }
}
