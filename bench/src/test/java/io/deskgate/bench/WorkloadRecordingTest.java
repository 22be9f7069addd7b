package io.deskgate.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.deskgate.bench.workload.Workload;
import io.deskgate.bench.workload.Workload.Twin;
import io.deskgate.bench.workload.WorkloadRecorder;
import io.deskgate.bench.workload.Workloads;
import io.deskgate.rfb.RfbClient;
import io.deskgate.rfb.RfbListener;
import io.deskgate.testkit.TimedRecording;
import io.deskgate.testkit.TimedRecording.Chunk;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

/**
 * The recorded workloads W1..W5 (recordings/README.md): every twin decodes to its end with nothing left over, fed as
 * recorded and in irregular fragments of 1..64 bytes; its timing never goes back and spans the workload's duration; a
 * text workload's lossless Tight twin ends on a framebuffer equal, pixel for pixel over the whole 1280x800 desktop
 * (low 24 bits; the cursor is drawn into both by Xvnc), to the ZRLE stream's, as both end on a full update of the
 * same settled desktop (its programs stopped); a photographic workload's JPEG quality 6 twin ends within 30 dB PSNR
 * of it. Writes each final framebuffer to {@code target/workloads/<recording>.png} to look at.
 */
class WorkloadRecordingTest {
    static Stream<Arguments> twins() {
        return Workloads.all().stream().flatMap(w -> w.twins().stream().map(t -> Arguments.of(w, t)));
    }

    record Decoded(int width, int height, int[] pixels, int updates, long rects, int pendingAfter) {}

    /** Feeds the chunks (split into fragments when {@code fragments} is set) and returns the final framebuffer. */
    static Decoded decode(TimedRecording recording, Twin twin, SplittableRandom fragments) {
        int[] counts = new int[1];
        long[] rects = new long[1];
        RfbClient client = new RfbClient("", true, new RfbListener() {
            @Override public void onRect(int x, int y, int w, int h) { rects[0]++; }
            @Override public void onCopyRect(int sx, int sy, int x, int y, int w, int h) { rects[0]++; }
            @Override public void onUpdateEnd() { counts[0]++; }
        }, WorkloadRecorder.encodings(twin.encodings)); // as the recorder asked: the client rejects any other encoding
        try {
            for (Chunk c : recording.chunks()) {
                byte[] b = c.bytes();
                if (fragments == null) {
                    client.receive(b, 0, b.length);
                } else {
                    for (int off = 0; off < b.length; ) {
                        int n = Math.min(b.length - off, fragments.nextInt(1, 65));
                        client.receive(b, off, n);
                        off += n;
                    }
                }
                client.drainOutgoing();
            }
            int[] px = client.framebuffer().pixels().clone();
            for (int i = 0; i < px.length; i++) px[i] &= 0xffffff;
            return new Decoded(client.framebuffer().width(), client.framebuffer().height(), px, counts[0], rects[0], client.pendingInputBytes());
        } finally {
            client.close();
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("twins")
    void shouldDecodeEachRecordingToItsEndWithNothingLeftOver(Workload w, Twin twin) throws Exception {
        TimedRecording r = TimedRecording.load(w.recording(twin));
        Decoded whole = decode(r, twin, null);
        assertThat(whole.width()).isEqualTo(w.width());
        assertThat(whole.height()).isEqualTo(w.height());
        assertThat(whole.pendingAfter()).as("bytes left undecoded").isZero();
        assertThat(whole.updates()).isGreaterThan(1);
        assertThat(r.durationMicros()).as("span of the recording").isGreaterThan(w.seconds() * 1_000_000L);
        for (int i = 1; i < r.chunks().size(); i++) assertThat(r.chunks().get(i).micros()).isGreaterThanOrEqualTo(r.chunks().get(i - 1).micros());
        Decoded fragmented = decode(r, twin, new SplittableRandom(w.id().hashCode()));
        assertThat(fragmented.pixels()).isEqualTo(whole.pixels());
        assertThat(fragmented.updates()).isEqualTo(whole.updates());
        assertThat(fragmented.pendingAfter()).isZero();
        Path png = Path.of("target/workloads/" + w.recording(twin).replace(".rfbt.gz", ".png"));
        Files.createDirectories(png.getParent());
        BufferedImage img = new BufferedImage(whole.width(), whole.height(), BufferedImage.TYPE_INT_RGB);
        img.setRGB(0, 0, whole.width(), whole.height(), whole.pixels(), 0, whole.width());
        ImageIO.write(img, "png", png.toFile());
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("workloads")
    void shouldEndTheTightTwinOnTheZrleStreamsSettledDesktop(Workload w) {
        Decoded zrle = decode(TimedRecording.load(w.recording(Twin.ZRLE)), Twin.ZRLE, null);
        Decoded tight = decode(TimedRecording.load(w.recording(w.tightTwin())), w.tightTwin(), null);
        assertThat(tight.width() * tight.height()).isEqualTo(zrle.width() * zrle.height());
        if (w.tightTwin() == Twin.TIGHT) {
            int differ = 0;
            for (int i = 0; i < zrle.pixels().length; i++) if (zrle.pixels()[i] != tight.pixels()[i]) differ++;
            assertThat(differ).as("pixels of the final lossless Tight framebuffer that differ from ZRLE's").isZero();
        } else {
            double squared = 0;
            for (int i = 0; i < zrle.pixels().length; i++) {
                int a = zrle.pixels()[i], b = tight.pixels()[i];
                int dr = (a >> 16 & 255) - (b >> 16 & 255), dg = (a >> 8 & 255) - (b >> 8 & 255), db = (a & 255) - (b & 255);
                squared += dr * dr + dg * dg + db * db;
            }
            assertThat(10 * Math.log10(255.0 * 255.0 * 3 * zrle.pixels().length / Math.max(squared, 1e-9))).as("PSNR of the q6 twin's final framebuffer, dB").isGreaterThanOrEqualTo(30.0);
        }
    }

    static Stream<Workload> workloads() { return Workloads.all().stream(); }

    @Test
    void shouldReadBackWhatTheWriterWroteAndRejectAnotherFormat() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (TimedRecording.Writer w = new TimedRecording.Writer(out)) {
            w.write(5, new byte[] {1, 2, 3}, 0, 3);
            w.write(3, new byte[] {9, 8}, 1, 1); // earlier than the last: kept at 5
            w.write(7, new byte[0], 0, 0); // nothing: no chunk
        }
        TimedRecording r = TimedRecording.read(new ByteArrayInputStream(out.toByteArray()));
        assertThat(r.chunks()).containsExactly(new TimedRecording.Chunk(5, new byte[] {1, 2, 3}), new TimedRecording.Chunk(5, new byte[] {8}));
        assertThat(r.bytes()).containsExactly(1, 2, 3, 8);
        ByteArrayOutputStream other = new ByteArrayOutputStream();
        try (var gz = new java.util.zip.GZIPOutputStream(other)) { gz.write("RFB 003.008\n".getBytes()); }
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> TimedRecording.read(new ByteArrayInputStream(other.toByteArray())))
                .isInstanceOf(java.io.IOException.class).hasMessageContaining("not a timed RFB recording");
    }

    @Test
    void shouldDescribeFiveWorkloadsWithTheirTwins() {
        List<Workload> all = Workloads.all();
        assertThat(all).extracting(Workload::id).containsExactly("w1", "w2", "w3", "w4", "w5");
        assertThat(all).allSatisfy(w -> assertThat(w.twins()).contains(Twin.ZRLE, w.tightTwin()));
        assertThat(Workloads.byId("w3-drag").textLike()).isFalse();
        assertThat(Workloads.byId("w4").commands("/jdk/bin/java", "a.jar")).containsExactly(
                List.of("/jdk/bin/java", "-Xmx256m", "-cp", "a.jar", "io.deskgate.bench.workload.MovingPicture", "160", "100"));
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Workloads.byId("w9")).hasMessageContaining("known: w1..w5");
    }
}
