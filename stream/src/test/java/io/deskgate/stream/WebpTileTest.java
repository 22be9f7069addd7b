package io.deskgate.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import io.deskgate.common.ProtocolException;
import io.deskgate.stream.StreamMessage.Tile;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The WEBP tile format (docs/protocol.md §1.1, tile format 7) against the golden vectors
 * ({@code src/test/vectors/webp-tiles.txt}, written by encode's {@code WebpVectorsTest} with libwebp): the good ones
 * decode to their picture within their PSNR, every malformed one is refused naming what is wrong, and mutated tiles
 * either decode to exactly w×h pixels or are refused with {@link ProtocolException}, nothing else. The container checks
 * need no library; decoding needs libwebp (skipped without it, except on CI).
 */
class WebpTileTest {
    static final HexFormat HEX = HexFormat.of();

    static List<TileVector> vectors() throws Exception {
        return TileVector.load("webp-tiles.txt");
    }

    static WebpTile.Decoder decoder() {
        WebpTile.Decoder d = WebpTile.Decoder.shared();
        if (!d.available()) {
            String why = d.unavailableReason().orElseThrow();
            if ("true".equals(System.getenv("CI"))) fail("CI=true but libwebp is not available: " + why);
            Assumptions.abort("libwebp not available (apt-get install libwebp7): " + why);
        }
        return d;
    }

    static double psnr(int[] a, int[] b) {
        double sum = 0;
        for (int i = 0; i < a.length; i++) {
            for (int shift = 0; shift <= 16; shift += 8) {
                int d = (a[i] >> shift & 0xff) - (b[i] >> shift & 0xff);
                sum += d * d;
            }
        }
        double mse = sum / (a.length * 3.0);
        return mse == 0 ? Double.POSITIVE_INFINITY : 10 * Math.log10(255.0 * 255.0 / mse);
    }

    @Test
    void shouldAcceptTheContainerOfEveryGoodVectorWithoutTheLibrary() throws Exception {
        List<TileVector> good = vectors().stream().filter(TileVector::good).toList();
        assertThat(good).extracting(TileVector::name).contains("photo-16x16", "odd-size-13x7", "one-pixel");
        for (TileVector v : good) WebpTile.check(v.tile(), v.desktopW(), v.desktopH());
    }

    @Test
    void shouldDecodeEveryGoodVectorToItsPictureWithinItsPsnr() throws Exception {
        WebpTile.Decoder d = decoder();
        for (TileVector v : vectors().stream().filter(TileVector::good).toList()) {
            String[] rest = v.rest().split(" ");
            byte[] rgb = HEX.parseHex(rest[0]);
            int[] want = new int[rgb.length / 3];
            for (int i = 0; i < want.length; i++) want[i] = (rgb[3 * i] & 0xff) << 16 | (rgb[3 * i + 1] & 0xff) << 8 | rgb[3 * i + 2] & 0xff;
            int[] got = d.decode(v.tile(), v.desktopW(), v.desktopH());
            assertThat(got).as(v.name()).hasSize(v.tile().w() * v.tile().h());
            assertThat(psnr(want, got)).as(v.name()).isGreaterThanOrEqualTo(Double.parseDouble(rest[1]));
        }
    }

    @Test
    void shouldRefuseEveryMalformedVectorNamingWhatIsWrong() throws Exception {
        List<TileVector> bad = vectors().stream().filter(v -> !v.good()).toList();
        assertThat(bad).hasSizeGreaterThanOrEqualTo(12);
        for (TileVector v : bad) {
            if (v.rest().equals("cannot be decoded")) continue; // only libwebp itself sees that (below)
            assertThatThrownBy(() -> WebpTile.check(v.tile(), v.desktopW(), v.desktopH())).as(v.name())
                    .isInstanceOf(ProtocolException.class).hasMessageContaining("WEBP tile").hasMessageContaining(v.rest());
        }
        WebpTile.Decoder d = decoder();
        for (TileVector v : bad) {
            assertThatThrownBy(() -> d.decode(v.tile(), v.desktopW(), v.desktopH())).as(v.name())
                    .isInstanceOf(ProtocolException.class).hasMessageContaining(v.rest());
        }
    }

    @Test
    void shouldDecodeOrRefuseMutatedTilesAndNothingElse() throws Exception {
        WebpTile.Decoder d = decoder();
        Random random = new Random(0x3eb9);
        List<TileVector> good = vectors().stream().filter(TileVector::good).toList();
        int decoded = 0, refused = 0;
        for (int i = 0; i < 3000; i++) {
            TileVector v = good.get(i % good.size());
            Tile t = new Tile(v.tile().x(), v.tile().y(), v.tile().w(), v.tile().h(), Tile.FORMAT_WEBP, Mutator.mutate(v.tile().data(), random));
            try {
                assertThat(d.decode(t, v.desktopW(), v.desktopH())).hasSize(t.w() * t.h());
                decoded++;
            } catch (ProtocolException e) {
                assertThat(e.getMessage()).startsWith("WEBP tile");
                refused++;
            }
        }
        assertThat(refused).as("most mutations break the container or the frame").isGreaterThan(1000);
        assertThat(decoded + refused).isEqualTo(3000);
    }

    @Test
    void shouldRefuseATileWhosePixelsCouldNotBeSizedBeforeReadingIt() {
        Tile huge = new Tile(0, 0, 60000, 60000, Tile.FORMAT_WEBP, new byte[30]);
        assertThatThrownBy(() -> WebpTile.check(huge, 65535, 65535)).isInstanceOf(ProtocolException.class).hasMessageContaining("pixels");
    }
}
