package io.deskgate.rfb;

import static org.assertj.core.api.Assertions.assertThat;

import io.deskgate.common.ProtocolException;
import io.deskgate.testkit.Recordings;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Seeded random mutations of the real Xvnc recording: only {@link ProtocolException} may escape. */
class RfbMutationTest {
    /**
     * 2,000 seeded mutations of the real Xvnc recording (bit flips, byte overwrites, inserted and deleted
     * runs, truncation), each replayed in random fragments.
     */
    @Test
    void shouldOnlyThrowProtocolExceptionForMutatedRecordings() {
        byte[] recording = Recordings.load("xterm-zrle.rfb.gz");
        Random random = new Random(20261123);
        int rejected = 0;
        for (int c = 0; c < 2000; c++) {
            // Mutate somewhere in the first 100 KB (beyond the handshake) and replay 16 KB past the mutation.
            int at = 40 + random.nextInt(100_000);
            byte[] input = mutate(Arrays.copyOf(recording, Math.min(recording.length, at + 16_384)), at, random);
            RfbClient client = new RfbClient("", true, new EventLog());
            try {
                for (int off = 0; off < input.length; ) {
                    int n = Math.min(input.length - off, 1 + random.nextInt(40_000));
                    client.receive(input, off, n);
                    off += n;
                }
            } catch (ProtocolException e) {
                rejected++;
                assertThat(e.getMessage()).startsWith("RFB ").isNotBlank();
            } finally {
                client.close();
            }
        }
        // The mutations must actually reach the decoder's error paths, not just flip unchecked pixel bytes.
        assertThat(rejected).isBetween(200, 2000);
    }

    static byte[] mutate(byte[] b, int at, Random random) {
        int kind = random.nextInt(5);
        switch (kind) {
            case 0 -> b[at] ^= (byte) (1 << random.nextInt(8));
            case 1 -> {
                for (int i = 0; i < 1 + random.nextInt(8) && at + i < b.length; i++) b[at + i] = (byte) random.nextInt(256);
            }
            case 2 -> {
                byte[] inserted = new byte[1 + random.nextInt(16)];
                random.nextBytes(inserted);
                byte[] r = new byte[b.length + inserted.length];
                System.arraycopy(b, 0, r, 0, at);
                System.arraycopy(inserted, 0, r, at, inserted.length);
                System.arraycopy(b, at, r, at + inserted.length, b.length - at);
                return r;
            }
            case 3 -> {
                int cut = Math.min(1 + random.nextInt(16), b.length - at);
                byte[] r = new byte[b.length - cut];
                System.arraycopy(b, 0, r, 0, at);
                System.arraycopy(b, at + cut, r, at, b.length - at - cut);
                return r;
            }
            default -> {
                return Arrays.copyOf(b, at);
            }
        }
        return b;
    }
}
