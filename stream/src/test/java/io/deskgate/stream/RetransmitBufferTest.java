package io.deskgate.stream;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The sender's retransmit ring: allocated lazily, grown on demand, bounded by count and bytes. */
class RetransmitBufferTest {
    static byte[] datagram(long sequence, int bytes) {
        byte[] d = new byte[bytes];
        d[0] = (byte) sequence;
        return d;
    }

    @Test
    void shouldAllocateNothingUntilTheFirstDatagram() {
        RetransmitBuffer b = new RetransmitBuffer(4096, 1 << 20);
        assertThat(b.slots()).isZero();
        assertThat(b.get(0)).isEmpty();
        b.add(0, datagram(0, 10));
        assertThat(b.slots()).isEqualTo(RetransmitBuffer.INITIAL_SLOTS);
    }

    @Test
    void shouldGrowUpToItsBoundKeepingEveryHeldDatagramThenEvictTheOldest() {
        RetransmitBuffer b = new RetransmitBuffer(300, 1 << 20);
        for (long s = 0; s < 300; s++) b.add(s, datagram(s, 10));
        assertThat(b.slots()).isEqualTo(300);
        for (long s = 0; s < 300; s++) assertThat(b.get(s).orElseThrow()[0]).as("sequence " + s).isEqualTo((byte) s);
        b.add(300, datagram(300, 10));
        assertThat(b.oldest()).isEqualTo(1);
        assertThat(b.get(0)).isEmpty();
        assertThat(b.get(300).orElseThrow()[0]).isEqualTo((byte) 300);
        assertThat(b.slots()).isEqualTo(300);
    }

    @Test
    void shouldEvictTheOldestWhenOverItsByteBoundAndKeepItsContentsAcrossGrowth() {
        RetransmitBuffer b = new RetransmitBuffer(1000, 100 * 10);
        for (long s = 0; s < 150; s++) b.add(s, datagram(s, 10));
        assertThat(b.end() - b.oldest()).isEqualTo(100);
        for (long s = b.oldest(); s < b.end(); s++) assertThat(b.get(s).orElseThrow()[0]).isEqualTo((byte) s);
    }
}
