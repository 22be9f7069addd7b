package io.deskgate.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.deskgate.common.ProtocolException;
import io.deskgate.stream.StreamMessage.Tile;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Decodes the ZSTREAM golden vectors (docs/protocol.md §1.1; {@code src/test/vectors/zstream-tiles.txt}, written by
 * encode's {@code ZstreamVectorsTest} and decoded by the browser's {@code zstream.test.mjs} too): the good ones in
 * order, as one session, to their pixels; each malformed one, with fresh lanes, refused with a {@link ProtocolException}
 * naming what is wrong; and mutated tiles refused cleanly, never with another exception or a huge allocation.
 */
class ZstreamTileTest {
    static final HexFormat HEX = HexFormat.of();

    static List<TileVector> vectors() throws Exception {
        return TileVector.load("zstream-tiles.txt");
    }

    static int[] rgb(String hex) {
        byte[] b = HEX.parseHex(hex);
        int[] px = new int[b.length / 3];
        for (int i = 0; i < px.length; i++) px[i] = (b[3 * i] & 0xff) << 16 | (b[3 * i + 1] & 0xff) << 8 | b[3 * i + 2] & 0xff;
        return px;
    }

    @Test
    void shouldDecodeTheGoodVectorsInOrderToTheirPixels() throws Exception {
        List<TileVector> good = vectors().stream().filter(TileVector::good).toList();
        assertThat(good).hasSizeGreaterThanOrEqualTo(8);
        try (ZstreamTile.Decoder decoder = new ZstreamTile.Decoder()) {
            for (TileVector v : good) assertThat(decoder.decode(v.tile(), v.desktopW(), v.desktopH())).as(v.name()).isEqualTo(rgb(v.rest()));
            assertThat(decoder.valid(0)).isTrue();
            assertThat(decoder.valid(1)).isTrue();
            decoder.invalidate();
            assertThatThrownBy(() -> decoder.decode(good.get(1).tile(), 64, 64)).isInstanceOf(ProtocolException.class).hasMessageContaining("without RESET");
        }
    }

    @Test
    void shouldRefuseEveryMalformedVectorNamingWhatIsWrong() throws Exception {
        List<TileVector> bad = vectors().stream().filter(v -> !v.good()).toList();
        assertThat(bad).hasSizeGreaterThanOrEqualTo(10);
        for (TileVector v : bad) {
            try (ZstreamTile.Decoder decoder = new ZstreamTile.Decoder()) {
                assertThatThrownBy(() -> decoder.decode(v.tile(), v.desktopW(), v.desktopH())).as(v.name())
                        .isInstanceOf(ProtocolException.class).hasMessageContaining("ZSTREAM tile").hasMessageContaining(v.rest());
                assertThat(decoder.valid(v.tile().data()[0] & 0x0f)).as("%s: the lane is lost", v.name()).isFalse();
            }
        }
    }

    @Test
    void shouldLoseTheLaneOnAFailureAndResyncOnTheNextReset() throws Exception {
        List<TileVector> good = vectors().stream().filter(TileVector::good).toList();
        try (ZstreamTile.Decoder decoder = new ZstreamTile.Decoder()) {
            decoder.decode(good.get(0).tile(), 64, 64);
            Tile outside = new Tile(60, 60, 24, 13, Tile.FORMAT_ZSTREAM, good.get(1).tile().data());
            assertThatThrownBy(() -> decoder.decode(outside, 64, 64)).isInstanceOf(ProtocolException.class).hasMessageContaining("outside");
            assertThatThrownBy(() -> decoder.decode(good.get(1).tile(), 64, 64)).hasMessageContaining("without RESET");
            TileVector again = good.stream().filter(v -> v.name().equals("lane0-reset-again")).findFirst().orElseThrow();
            assertThat(decoder.decode(again.tile(), 64, 64)).isEqualTo(rgb(again.rest()));
        }
    }

    /** Seeded random mutation of the session's tiles (each decoded after the good ones before it): only ProtocolException escapes. */
    @Test
    void shouldThrowOnlyProtocolExceptionForMutatedTiles() throws Exception {
        List<TileVector> vectors = vectors();
        Random random = new Random(0x25717ea);
        int decoded = 0, rejected = 0;
        for (int i = 0; i < 20_000; i++) {
            int k = random.nextInt(vectors.size());
            TileVector v = vectors.get(k);
            byte[] input = Mutator.mutate(StreamCodec.encode(v.tile()), random);
            try (ZstreamTile.Decoder decoder = new ZstreamTile.Decoder()) {
                for (int j = 0; j < k; j++) {
                    TileVector before = vectors.get(j);
                    if (before.good()) decoder.decode(before.tile(), before.desktopW(), before.desktopH());
                }
                if (StreamCodec.decode(input) instanceof Tile t && t.format() == Tile.FORMAT_ZSTREAM) {
                    int[] px = decoder.decode(t, v.desktopW(), v.desktopH());
                    assertThat(px).hasSize(t.w() * t.h());
                    decoded++;
                }
            } catch (ProtocolException e) {
                rejected++;
            }
        }
        assertThat(decoded).isPositive();
        assertThat(rejected).isPositive();
    }

    @Test
    void shouldRefuseAHugeClaimBeforeAllocating() {
        Tile huge = new Tile(0, 0, 65535, 65535, Tile.FORMAT_ZSTREAM, new byte[] {(byte) 0x80, 0, 0, 0, (byte) 0xff, (byte) 0xff});
        try (ZstreamTile.Decoder decoder = new ZstreamTile.Decoder()) {
            assertThatThrownBy(() -> decoder.decode(huge, 65535, 65535)).isInstanceOf(ProtocolException.class).hasMessageContaining("claims");
        }
    }
}
