package io.deskgate.encode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.deskgate.common.ProtocolException;
import io.deskgate.stream.StreamCodec;
import io.deskgate.stream.StreamMessage.Tile;
import io.deskgate.stream.WebpTile;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The golden vectors of the WEBP tile format (docs/protocol.md §1.1), {@code stream/src/test/vectors/webp-tiles.txt}:
 * libwebp's output (through {@link WebpEncoder}) for a few small pictures, and malformed tiles built from them. The
 * stream module's {@code WebpTileTest} and the browser's {@code webp.test.mjs} read the same file. Lossy bytes depend on
 * libwebp's version, so the good vectors are checked by what they decode to (at least their PSNR against the picture),
 * not byte for byte; run with {@code -Ddeskgate.rewriteVectors=true} to write the file again after a reviewed change.
 *
 * <p>Format, one vector a line: {@code good <name> <desktopW> <desktopH> <TILE message hex> <RGB hex of the picture>
 * <minimum PSNR dB>} or {@code bad <name> <desktopW> <desktopH> <TILE message hex> <text the refusal contains>}.
 */
class WebpVectorsTest {
    static final Path FILE = Path.of("../stream/src/test/vectors/webp-tiles.txt");
    static final HexFormat HEX = HexFormat.of();
    static final int MIN_PSNR_DB = 30;

    @Test
    void shouldKeepVectorsThatDecodeAndRefuseAsTheyClaim() throws Exception {
        WebpEncoderTest.library();
        if (Boolean.getBoolean("deskgate.rewriteVectors")) Files.writeString(FILE, vectors());
        List<String> lines = Files.readAllLines(FILE).stream().filter(l -> !l.isBlank() && !l.startsWith("#")).toList();
        assertThat(lines.stream().filter(l -> l.startsWith("good ")).count()).isGreaterThanOrEqualTo(3);
        assertThat(lines.stream().filter(l -> l.startsWith("bad ")).count()).isGreaterThanOrEqualTo(10);
        for (String line : lines) {
            String[] f = line.split(" ", 6);
            Tile t = (Tile) StreamCodec.decode(HEX.parseHex(f[4]));
            int dw = Integer.parseInt(f[2]), dh = Integer.parseInt(f[3]);
            if (f[0].equals("good")) {
                String[] rest = f[5].split(" ");
                int[] decoded = WebpTile.Decoder.shared().decode(t, dw, dh);
                int[] picture = rgb(HEX.parseHex(rest[0]));
                assertThat(TurboJpegTest.psnr(picture, t.w(), 0, 0, t.w(), t.h(), decoded)).as(f[1])
                        .isGreaterThanOrEqualTo(Double.parseDouble(rest[1]));
            } else {
                assertThatThrownBy(() -> WebpTile.Decoder.shared().decode(t, dw, dh)).as(f[1])
                        .isInstanceOf(ProtocolException.class).hasMessageContaining(f[5]);
            }
        }
    }

    static int[] rgb(byte[] b) {
        int[] px = new int[b.length / 3];
        for (int i = 0; i < px.length; i++) px[i] = (b[3 * i] & 0xff) << 16 | (b[3 * i + 1] & 0xff) << 8 | b[3 * i + 2] & 0xff;
        return px;
    }

    static String vectors() {
        StringBuilder out = new StringBuilder("# WEBP tile vectors, written by encode's WebpVectorsTest; read by stream's WebpTileTest and\n"
                + "# frontdoor's webp.test.mjs. good <name> <desktopW> <desktopH> <TILE hex> <RGB hex of the picture> <min PSNR dB>\n"
                + "# bad <name> <desktopW> <desktopH> <TILE hex> <text the refusal contains>\n");
        WebpEncoder lib = WebpEncoder.shared();
        Tile photo = good(out, lib, "photo-16x16", 16, 16, 80);
        good(out, lib, "odd-size-13x7", 13, 7, 80);
        good(out, lib, "one-pixel", 1, 1, 90);
        Tile small = good(out, lib, "photo-8x8", 8, 8, 80);
        byte[] d = photo.data();
        bad(out, "outside-the-desktop", 64, 64, new Tile(10, 10, 60000, 60000, Tile.FORMAT_WEBP, d), "outside");
        bad(out, "too-short", 64, 64, tile(16, 16, Arrays.copyOf(d, 20)), "too short");
        bad(out, "not-riff", 64, 64, tile(16, 16, with(d, 0, 'X')), "not a RIFF WEBP container");
        bad(out, "riff-size-wrong", 64, 64, tile(16, 16, with(d, 4, d[4] + 2)), "RIFF size");
        bad(out, "trailing-bytes", 64, 64, tile(16, 16, riffFixed(Arrays.copyOf(d, d.length + 2))), "does not end");
        bad(out, "lossless-vp8l", 64, 64, tile(16, 16, with(d, 15, 'L')), "not lossy VP8");
        bad(out, "extended-vp8x", 64, 64, tile(16, 16, with(d, 15, 'X')), "not lossy VP8");
        bad(out, "not-a-key-frame", 64, 64, tile(16, 16, with(d, 20, d[20] | 1)), "not a key frame");
        bad(out, "no-start-code", 64, 64, tile(16, 16, with(d, 23, 0x9e)), "no start code");
        bad(out, "upscaled", 64, 64, tile(16, 16, with(d, 27, d[27] | 0x40)), "upscaling");
        bad(out, "picture-of-another-size", 64, 64, tile(16, 15, d), "holds a 16x16 picture");
        bad(out, "first-partition-too-long", 64, 64, tile(16, 16, with(d, 22, 0x7f)), "first partition");
        bad(out, "undecodable-vp8", 64, 64, undecodable(small), "cannot be decoded");
        return out.toString();
    }

    private static Tile tile(int w, int h, byte[] data) { return new Tile(0, 0, w, h, Tile.FORMAT_WEBP, data); }

    static Tile good(StringBuilder out, WebpEncoder lib, String name, int w, int h, int quality) {
        int[] px = TurboJpegTest.photo(w, h, name.hashCode());
        Tile t = new Tile(3, 2, w, h, Tile.FORMAT_WEBP, lib.encode(px, w, 0, 0, w, h, quality, TileEncoder.DEFAULT_WEBP_METHOD, WebpEncoder.Tuning.TILES));
        ByteArrayOutputStream rgb = new ByteArrayOutputStream();
        for (int p : px) {
            rgb.write(p >> 16);
            rgb.write(p >> 8);
            rgb.write(p);
        }
        out.append("good ").append(name).append(' ').append(3 + w).append(' ').append(2 + h).append(' ')
                .append(HEX.formatHex(StreamCodec.encode(t))).append(' ').append(HEX.formatHex(rgb.toByteArray()))
                .append(' ').append(MIN_PSNR_DB).append('\n');
        return t;
    }

    static void bad(StringBuilder out, String name, int desktopW, int desktopH, Tile t, String refusal) {
        out.append("bad ").append(name).append(' ').append(desktopW).append(' ').append(desktopH).append(' ')
                .append(HEX.formatHex(StreamCodec.encode(t))).append(' ').append(refusal).append('\n');
    }

    static byte[] with(byte[] d, int offset, int value) {
        byte[] c = d.clone();
        c[offset] = (byte) value;
        return c;
    }

    /** The RIFF size set to the data's length, so that only the chunk is wrong. */
    static byte[] riffFixed(byte[] d) {
        int riff = d.length - 8;
        for (int i = 0; i < 4; i++) d[4 + i] = (byte) (riff >> 8 * i);
        return d;
    }

    /**
     * A container and VP8 frame header that {@link WebpTile#check} accepts, around a frame libwebp refuses: the chunk
     * cut to the header and the first partition (the token partition is missing).
     */
    static Tile undecodable(Tile good) {
        byte[] d = good.data();
        int tag = (d[20] & 0xff) | (d[21] & 0xff) << 8 | (d[22] & 0xff) << 16;
        int chunk = WebpTile.VP8_HEADER_BYTES + (tag >>> 5);
        byte[] cut = Arrays.copyOf(d, WebpTile.VP8_OFFSET + chunk + (chunk & 1));
        for (int i = 0; i < 4; i++) cut[16 + i] = (byte) (chunk >> 8 * i);
        return tile(good.w(), good.h(), riffFixed(cut));
    }
}
