package io.deskgate.rfb;

import static org.assertj.core.api.Assertions.assertThat;

import io.deskgate.common.ProtocolException;
import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Seeded mutations (Jazzer cannot instrument JDK 25) of valid server streams for each new decoder — Tight
 * (every compression type, filter and stream, resets, JPEG), Hextile (every subencoding), Cursor,
 * ExtendedDesktopSize, ContinuousUpdates and Fence — built by the test-side encoders. The property: only a
 * {@link ProtocolException} starting "RFB " escapes, a mutated stream never makes the client allocate beyond
 * the framebuffer's size class, and one failed connection leaves another client's decoding untouched.
 */
class RfbDecoderMutationTest {
    static final RfbEncodings ALL = RfbEncodings.of(RfbEncodings.TIGHT, RfbEncodings.HEXTILE, RfbEncodings.ZRLE, RfbEncodings.COPY_RECT,
            RfbEncodings.RAW, RfbEncodings.CURSOR, RfbEncodings.EXTENDED_DESKTOP_SIZE, RfbEncodings.DESKTOP_SIZE, RfbEncodings.LAST_RECT,
            RfbEncodings.CONTINUOUS_UPDATES, RfbEncodings.FENCE, RfbEncodings.jpegQuality(7));
    private static final int FB_W = 96;
    private static final int FB_H = 64;
    /** Fixed working buffers (input slices, the Tight and ZRLE inflate buffers, the JPEG reader) on top of the pixels. */
    private static final long FIXED_ALLOWANCE_BYTES = 2L << 20;
    private static final com.sun.management.ThreadMXBean THREADS = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    /** Updates in every Tight form, with the 4 streams, resets and JPEG. */
    static byte[] tightStream() {
        RfbServerBytes s = RfbServerBytes.handshake(FB_W, FB_H);
        TightRects t = new TightRects();
        int w = 29;
        int h = 13;
        s.framebufferUpdate(3).tight(0, 0, FB_W, FB_H, t.fill(0x204060))
                .tight(1, 2, w, h, t.copy(0, false, TestImages.photo(w, h, 1)))
                .tight(40, 2, 3, 1, t.copy(1, true, new int[] {1, 2, 3}));
        s.framebufferUpdate(3).tight(2, 20, w, h, t.palette(1, new int[] {0x111111, 0xeeeeee}, TestImages.text(w, h, 0xeeeeee, 0x111111, 2), w, h))
                .tight(40, 20, w, h, t.palette(2, Arrays.stream(TestImages.blocks(w, h, 20, 3)).distinct().toArray(), TestImages.blocks(w, h, 20, 3), w, h))
                .tight(60, 40, w, h, t.gradient(3, TestImages.photo(w, h, 4), w, h));
        s.framebufferUpdate(0xffff).tight(1, 2, w, h, t.reset(0).reset(3).copy(0, false, TestImages.photo(w, h, 5)))
                .tight(50, 30, 32, 24, t.jpeg(TestImages.photo(32, 24, 6), 32, 24, 0.7f))
                .copyRect(1, 2, 60, 0, 10, 10).lastRect();
        return s.toByteArray();
    }

    /** Updates in every Hextile subencoding, hand-made and encoded. */
    static byte[] hextileStream() {
        RfbServerBytes s = RfbServerBytes.handshake(FB_W, FB_H);
        int w = 45;
        int h = 37;
        HextileTiles hand = new HextileTiles();
        hand.u8(HextileDecoder.BACKGROUND_SPECIFIED | HextileDecoder.FOREGROUND_SPECIFIED | HextileDecoder.ANY_SUBRECTS)
                .pixel(0x102030).pixel(0xffffff).u8(2).subrect(0, 0, 3, 2).subrect(10, 10, 6, 6);
        hand.u8(HextileDecoder.ANY_SUBRECTS | HextileDecoder.SUBRECTS_COLOURED).u8(2).pixel(0xff0000).subrect(1, 1, 2, 2)
                .pixel(0x00ff00).subrect(4, 4, 12, 12);
        hand.raw(new int[16 * 16]);
        hand.u8(HextileDecoder.ANY_SUBRECTS).u8(1).subrect(5, 5, 1, 1);
        s.framebufferUpdate(1).hextile(0, 0, 64, 16, hand.toByteArray());
        s.framebufferUpdate(3).hextile(0, 16, w, h, HextileTiles.encode(TestImages.text(w, h, 0, 0xffffff, 7), w, h))
                .hextile(48, 16, w, h, HextileTiles.encode(TestImages.blocks(w, h, 6, 8), w, h))
                .hextile(10, 20, 20, 20, HextileTiles.encode(TestImages.photo(20, 20, 9), 20, 20));
        return s.toByteArray();
    }

    /** Cursor, ExtendedDesktopSize, ContinuousUpdates and Fence messages between small updates. */
    static byte[] pseudoStream() {
        RfbServerBytes s = RfbServerBytes.handshake(FB_W, FB_H);
        int[] pixels = TestImages.photo(12, 18, 3);
        boolean[] mask = new boolean[12 * 18];
        for (int i = 0; i < mask.length; i++) mask[i] = i % 5 != 0;
        s.fence(0x8000_0007, new byte[] {1, 2, 3, 4}).endOfContinuousUpdates();
        s.framebufferUpdate(2).extendedDesktopSize(0, 0, FB_W, FB_H, new int[] {1, 0, 0, FB_W, FB_H, 0}).cursor(3, 4, 12, 18, pixels, mask);
        s.framebufferUpdate(2).extendedDesktopSize(1, 0, 80, 50, new int[] {1, 0, 0, 40, 50, 0}, new int[] {2, 40, 0, 40, 50, 0})
                .raw(0, 0, 2, 1, 0x123456, 0x654321);
        s.fence(0x0000_0001, new byte[0]).framebufferUpdate(2).cursor(0, 0, 0, 0, new int[0], new boolean[0]).desktopSize(70, 40);
        s.endOfContinuousUpdates().framebufferUpdate(0xffff).extendedDesktopSize(1, 3, 200, 200).lastRect();
        return s.toByteArray();
    }

    private record Outcome(int framebufferHash, long rects, long updates, int cursors, int layouts) {}

    private static Outcome replay(byte[] stream) {
        EventLog log = new EventLog();
        RfbClient client = new RfbClient("", true, log, ALL);
        client.receive(stream, 0, stream.length);
        assertThat(client.pendingInputBytes()).isZero();
        Outcome o = new Outcome(Arrays.hashCode(client.framebuffer().pixels()), log.rects, log.updates, log.cursors.size(), log.layouts.size());
        client.close();
        return o;
    }

    @Test
    void shouldDecodeTheUnmutatedStreams() {
        assertThat(replay(tightStream())).extracting(Outcome::rects, Outcome::updates).containsExactly(8L, 3L);
        assertThat(replay(hextileStream())).extracting(Outcome::rects, Outcome::updates).containsExactly(4L, 2L);
        assertThat(replay(pseudoStream())).extracting(Outcome::rects, Outcome::updates, Outcome::cursors, Outcome::layouts)
                .containsExactly(1L, 4L, 2, 3);
    }

    @Test
    void shouldOnlyThrowProtocolExceptionAndStayBoundedForMutatedTightStreams() {
        Map<String, Integer> errors = mutate(tightStream(), 1500, 6143_07);
        assertThat(errors.keySet()).as("mutations reach the Tight decoder's checks").anyMatch(m -> m.contains("Tight zlib"))
                .anyMatch(m -> m.contains("Tight JPEG")).anyMatch(m -> m.contains("compression type"));
    }

    @Test
    void shouldOnlyThrowProtocolExceptionAndStayBoundedForMutatedHextileStreams() {
        Map<String, Integer> errors = mutate(hextileStream(), 1500, 6143_05);
        assertThat(errors.keySet()).as("mutations reach the Hextile decoder's checks").anyMatch(m -> m.contains("Hextile subrectangle"))
                .anyMatch(m -> m.contains("Hextile tile has undefined"));
    }

    @Test
    void shouldOnlyThrowProtocolExceptionAndStayBoundedForMutatedPseudoEncodingStreams() {
        Map<String, Integer> errors = mutate(pseudoStream(), 1500, 6143_239);
        assertThat(errors.keySet()).as("mutations reach the pseudo-encodings' checks").anyMatch(m -> m.contains("Cursor"))
                .anyMatch(m -> m.contains("ExtendedDesktopSize") || m.contains("Fence"));
    }

    @Test
    void shouldOnlyThrowProtocolExceptionAndStayBoundedForRandomBodiesBehindValidHeaders() {
        int[] encodings = {RfbEncodings.TIGHT, RfbEncodings.HEXTILE, RfbEncodings.CURSOR, RfbEncodings.EXTENDED_DESKTOP_SIZE};
        byte[] handshake = RfbServerBytes.handshake(FB_W, FB_H).toByteArray();
        byte[] jpeg = TightRects.jpegBytes(TestImages.photo(16, 16, 1), 16, 16, 0.5f);
        Random random = new Random(6143_7);
        Map<String, Integer> errors = new HashMap<>();
        long maxAllocated = 0;
        for (int c = 0; c < 3000; c++) {
            int encoding = encodings[random.nextInt(encodings.length)];
            int w = random.nextInt(random.nextBoolean() ? 17 : FB_W + 2);
            int h = random.nextInt(random.nextBoolean() ? 17 : FB_H + 2);
            RfbServerBytes s = RfbServerBytes.handshake(FB_W, FB_H).framebufferUpdate(1)
                    .rectHeader(random.nextInt(FB_W - Math.min(w, FB_W) + 1), random.nextInt(FB_H - Math.min(h, FB_H) + 1), w, h, encoding);
            byte[] body = new byte[random.nextInt(random.nextBoolean() ? 64 : 4096)];
            random.nextBytes(body);
            if (encoding == RfbEncodings.TIGHT && body.length > 3 && random.nextInt(4) == 0) {
                // A JPEG whose header says 16x16 and whose data is partly random.
                body = Arrays.copyOf(body, 3 + jpeg.length);
                body[0] = (byte) 0x90;
                System.arraycopy(TightRects.compactLength(jpeg.length), 0, body, 1, 2);
                System.arraycopy(jpeg, 0, body, 3, jpeg.length);
                for (int i = 0; i < 1 + random.nextInt(8); i++) body[3 + 20 + random.nextInt(jpeg.length - 20)] = (byte) random.nextInt(256);
            }
            byte[] input = s.bytes(body).toByteArray();
            RfbClient client = new RfbClient("", true, new EventLog(), ALL);
            client.receive(handshake, 0, handshake.length);
            long before = THREADS.getCurrentThreadAllocatedBytes();
            try {
                client.receive(input, handshake.length, input.length - handshake.length);
            } catch (ProtocolException e) {
                assertThat(e.getMessage()).startsWith("RFB ");
                errors.merge(e.getMessage().replaceAll("[0-9].*", ""), 1, Integer::sum);
            } finally {
                client.close();
            }
            maxAllocated = Math.max(maxAllocated, THREADS.getCurrentThreadAllocatedBytes() - before - input.length);
        }
        assertThat(maxAllocated).isLessThan(FIXED_ALLOWANCE_BYTES + 8L * 4 * FB_W * FB_H);
        assertThat(errors.keySet()).anyMatch(m -> m.contains("Tight")).anyMatch(m -> m.contains("Tight JPEG"))
                .anyMatch(m -> m.contains("Hextile")).anyMatch(m -> m.contains("Cursor"));
    }

    /**
     * Mutates {@code valid} {@code cases} times past its handshake and replays each in random fragments.
     * Returns how often each rejection message (up to its first digit) came.
     */
    private static Map<String, Integer> mutate(byte[] valid, int cases, long seed) {
        Outcome clean = replay(valid);
        int handshake = RfbServerBytes.handshake(FB_W, FB_H).toByteArray().length;
        Random random = new Random(seed);
        Map<String, Integer> errors = new HashMap<>();
        long framebufferBytes = 4L * FB_W * FB_H;
        long maxAllocated = 0;
        int rejected = 0;
        for (int c = 0; c < cases; c++) {
            int at = handshake + random.nextInt(valid.length - handshake);
            byte[] input = RfbMutationTest.mutate(valid.clone(), at, random);
            RfbClient client = new RfbClient("", true, new EventLog(), ALL);
            long before = THREADS.getCurrentThreadAllocatedBytes();
            try {
                for (int off = 0; off < input.length; ) {
                    int n = Math.min(input.length - off, 1 + random.nextInt(random.nextBoolean() ? 64 : 8192));
                    client.receive(input, off, n);
                    off += n;
                }
            } catch (ProtocolException e) {
                rejected++;
                assertThat(e.getMessage()).startsWith("RFB ");
                errors.merge(e.getMessage().replaceAll("[0-9].*", ""), 1, Integer::sum);
            } finally {
                client.close();
            }
            long allocated = THREADS.getCurrentThreadAllocatedBytes() - before;
            maxAllocated = Math.max(maxAllocated, allocated - input.length);
        }
        assertThat(rejected).as("rejected of %d", cases).isBetween(cases / 10, cases);
        // A mutated size field that sized a buffer (a 60000x60000 claim is 14 GB) would be far beyond this.
        assertThat(maxAllocated).as("most bytes one mutated connection allocated beyond its input")
                .isLessThan(FIXED_ALLOWANCE_BYTES + 8 * framebufferBytes);
        // Only the mutated connections failed: a fresh client still decodes the valid stream exactly.
        assertThat(replay(valid)).isEqualTo(clean);
        return errors;
    }
}
