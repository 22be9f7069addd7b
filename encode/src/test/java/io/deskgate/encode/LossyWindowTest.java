package io.deskgate.encode;

import static org.assertj.core.api.Assertions.assertThat;

import io.deskgate.stream.StreamMessage;
import io.deskgate.stream.StreamMessage.Tile;
import java.util.BitSet;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The default {@code lossy-window} (2 s): a picture the desktop updates only about once a second (W4 from a loaded Xvnc,
 * whose ZRLE updates came up to 1.24 s apart) counts as changing often, so its second change goes lossy instead of
 * exact (950 kB for one 960x540 frame at the 1 s window).
 */
class LossyWindowTest {
    static final long MS = 1_000_000L;

    static void picture(int[] px, int width, int height, int seed) {
        Random random = new Random(seed);
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                px[y * width + x] = Math.min(255, (x + 7 * seed) / 2 + random.nextInt(20)) << 16 | Math.min(255, y / 2 + random.nextInt(20)) << 8 | (x + y + seed) & 0xff;
            }
        }
    }

    @Test
    void shouldSendAPictureChangingEveryTwelveHundredMillisecondsLossyFromItsSecondChange() {
        int width = 256, height = 192;
        int[] px = new int[width * height];
        BitSet all = new BitSet();
        all.set(0, 4 * 3);
        try (FrameEncoder encoder = new FrameEncoder(EncoderConfig.defaults())) {
            picture(px, width, height, 0);
            assertThat(encoder.encodeAll(px, width, height, 0)).noneMatch(m -> ((Tile) m).format() == Tile.FORMAT_JPEG);
            picture(px, width, height, 1);
            List<StreamMessage> first = encoder.encode(px, width, height, all, List.of(), 1240 * MS);
            assertThat(first).as("its first change: exact").noneMatch(m -> ((Tile) m).format() == Tile.FORMAT_JPEG);
            picture(px, width, height, 2);
            List<StreamMessage> second = encoder.encode(px, width, height, all, List.of(), 2480 * MS);
            assertThat(second).as("its second change, 1.24 s later: lossy")
                    .allSatisfy(m -> assertThat(((Tile) m).format()).isEqualTo(Tile.FORMAT_JPEG));
            assertThat(encoder.lossyTiles()).isEqualTo(12);
        }
        try (FrameEncoder encoder = new FrameEncoder(EncoderConfig.defaults())) {
            picture(px, width, height, 0);
            encoder.encodeAll(px, width, height, 0);
            picture(px, width, height, 1);
            encoder.encode(px, width, height, all, List.of(), 1000 * MS);
            picture(px, width, height, 2);
            assertThat(encoder.encode(px, width, height, all, List.of(), 3100 * MS)).as("2.1 s apart: not often")
                    .noneMatch(m -> ((Tile) m).format() == Tile.FORMAT_JPEG);
        }
    }
}
