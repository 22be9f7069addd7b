package io.deskgate.bench.workload;

import io.deskgate.bench.workload.Workload.Input;
import io.deskgate.bench.workload.Workload.Twin;
import io.deskgate.rfb.RfbClient;
import io.deskgate.rfb.RfbEncodings;
import io.deskgate.rfb.RfbListener;
import io.deskgate.testkit.TimedRecording;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Records a {@link Workload} from a real Xvnc: starts {@code Xvnc :<display>} (1280x800, depth 24, localhost, no
 * security), {@code twm} and the workload's programs, lets them settle, then opens one shared RFB connection per
 * {@link Twin} at once, each asking its own encodings, and records what the server sends each of them
 * ({@link TimedRecording}, one common start time; port 6070 + display - 170). Each connection asks for the whole picture, then for an
 * incremental update after each update, as fast as the server answers. The replay stream's connection also sends the
 * workload's input at its times. At the end the programs are stopped (SIGSTOP, so their windows stay as they are),
 * and after a second of quiet each connection asks for one last full update, so every recording ends on a message
 * boundary with the settled desktop in its last update; the final framebuffer hash of each is printed. Kills all it
 * started. A tool run by hand (root, a free display); not a test.
 *
 * <p>Usage: {@code WorkloadRecorder <out-dir> <display> <w1..w5|all>...}, with the bench module's class path.
 */
public final class WorkloadRecorder {
    private WorkloadRecorder() {}

    public static void main(String[] args) throws Exception {
        Path outDir = Path.of(args[0]);
        int display = Integer.parseInt(args[1]);
        List<Workload> workloads = new ArrayList<>();
        for (int i = 2; i < args.length; i++) {
            if (args[i].equals("all")) workloads.addAll(Workloads.all()); else workloads.add(Workloads.byId(args[i]));
        }
        Files.createDirectories(outDir);
        for (Workload w : workloads) record(w, outDir, display);
    }

    static void record(Workload w, Path outDir, int display) throws Exception {
        if (display < 170 || display > 179) throw new IllegalArgumentException("display must be 170..179 (ports 6070..6079)");
        int port = 6070 + display - 170;
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String cp = System.getProperty("java.class.path");
        Path twmrc = Files.createTempFile("deskgate-twmrc", "");
        Files.writeString(twmrc, "UsePPosition \"on\"\nRandomPlacement\nNoGrabServer\n");
        List<Process> started = new ArrayList<>();
        try {
            started.add(start(List.of("Xvnc", ":" + display, "-geometry", w.width() + "x" + w.height(), "-depth", "24",
                    "-rfbport", "" + port, "-localhost", "-SecurityTypes", "None", "-AlwaysShared"), display, outDir));
            waitForPort(port);
            started.add(start(List.of("twm", "-f", twmrc.toString()), display, outDir));
            Thread.sleep(500);
            List<Process> programs = new ArrayList<>();
            for (List<String> c : w.commands(java, cp)) {
                Process p = start(c, display, outDir);
                started.add(p);
                programs.add(p);
            }
            Thread.sleep(2500); // the programs start and draw
            long startNs = System.nanoTime();
            CountDownLatch stop = new CountDownLatch(1);
            List<Thread> threads = new ArrayList<>();
            List<Connection> connections = new ArrayList<>();
            for (Twin twin : w.twins()) {
                Connection c = new Connection(port, outDir.resolve(w.recording(twin)), encodings(twin.encodings),
                        twin == Twin.ZRLE ? w.input() : List.of(), startNs, stop);
                connections.add(c);
                Thread t = Thread.ofPlatform().name("record-" + twin.suffix).start(c);
                threads.add(t);
            }
            Thread.sleep(w.seconds() * 1000L);
            for (Process p : programs) signal("STOP", p);
            Thread.sleep(1000);
            stop.countDown();
            for (Thread t : threads) t.join(30_000);
            for (Connection c : connections) System.out.println(w.id() + " " + c.file.getFileName() + ": " + c.summary);
        } finally {
            for (Process p : started.reversed()) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                p.waitFor(10, TimeUnit.SECONDS);
            }
            Files.deleteIfExists(twmrc);
        }
    }

    private static Process start(List<String> command, int display, Path outDir) throws IOException {
        ProcessBuilder b = new ProcessBuilder(command);
        b.environment().put("DISPLAY", ":" + display);
        b.redirectErrorStream(true);
        b.redirectOutput(ProcessBuilder.Redirect.appendTo(outDir.resolve("recorder-programs.log").toFile()));
        return b.start();
    }

    /** Sends SIGSTOP/SIGCONT to the process and its descendants. */
    private static void signal(String name, Process p) throws Exception {
        List<String> command = new ArrayList<>(List.of("kill", "-" + name, "" + p.pid()));
        p.descendants().forEach(d -> command.add("" + d.pid()));
        new ProcessBuilder(command).inheritIO().start().waitFor();
    }

    private static void waitForPort(int port) throws Exception {
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (true) {
            try (Socket s = new Socket("127.0.0.1", port)) {
                return;
            } catch (IOException e) {
                if (System.nanoTime() > deadline) throw new IOException("Xvnc did not listen on port " + port, e);
                Thread.sleep(50);
            }
        }
    }

    /** One recorded connection. */
    private static final class Connection implements Runnable {
        final int port;
        final Path file;
        final RfbEncodings encodings;
        final List<Input> input;
        final long startNs;
        final CountDownLatch stop;
        volatile String summary = "not run";

        Connection(int port, Path file, RfbEncodings encodings, List<Input> input, long startNs, CountDownLatch stop) {
            this.port = port;
            this.file = file;
            this.encodings = encodings;
            this.input = input;
            this.startNs = startNs;
            this.stop = stop;
        }

        @Override public void run() {
            try {
                summary = record();
            } catch (Exception e) {
                summary = "failed: " + e;
            }
        }

        private String record() throws Exception {
            long[] counts = new long[3]; // updates, rects, updates ended since the final full request
            boolean[] finalRequested = new boolean[1];
            RfbClient[] holder = new RfbClient[1];
            RfbClient client = new RfbClient("", true, new RfbListener() {
                @Override public void onServerInit(int width, int height, String name) { holder[0].requestUpdate(false); }
                @Override public void onRect(int x, int y, int w, int h) { counts[1]++; }
                @Override public void onCopyRect(int srcX, int srcY, int x, int y, int w, int h) { counts[1]++; }
                @Override public void onUpdateEnd() {
                    counts[0]++;
                    if (finalRequested[0]) counts[2]++; else holder[0].requestUpdate(true);
                }
            }, encodings);
            holder[0] = client;
            long total = 0;
            int nextInput = 0;
            try (Socket socket = new Socket("127.0.0.1", port);
                    TimedRecording.Writer record = new TimedRecording.Writer(Files.newOutputStream(file))) {
                socket.setSoTimeout(5);
                socket.setTcpNoDelay(true);
                socket.setReceiveBufferSize(1 << 20);
                InputStream in = socket.getInputStream();
                OutputStream out = socket.getOutputStream();
                byte[] buf = new byte[1 << 16];
                long lastDataNs = System.nanoTime();
                long finalDeadline = Long.MAX_VALUE;
                while (counts[2] < 2 && System.nanoTime() < finalDeadline
                        && !(counts[2] == 1 && System.nanoTime() - lastDataNs > 1_000_000_000L)) {
                    long micros = (System.nanoTime() - startNs) / 1000;
                    if (client.isReady()) {
                        while (nextInput < input.size() && input.get(nextInput).micros() <= micros) {
                            Input e = input.get(nextInput++);
                            if (e.isPointer()) client.pointerEvent(e.x(), e.y(), 0); else client.keyEvent(e.down(), e.keysym());
                        }
                        if (!finalRequested[0] && stop.getCount() == 0) {
                            finalRequested[0] = true;
                            finalDeadline = System.nanoTime() + 20_000_000_000L;
                            client.requestUpdate(false);
                        }
                    }
                    byte[] outgoing = client.drainOutgoing();
                    if (outgoing.length > 0) out.write(outgoing);
                    int n;
                    try {
                        n = in.read(buf);
                    } catch (SocketTimeoutException e) {
                        continue;
                    }
                    if (n < 0) break;
                    lastDataNs = System.nanoTime();
                    record.write((lastDataNs - startNs) / 1000, buf, 0, n);
                    total += n;
                    client.receive(buf, 0, n);
                }
            } finally {
                client.close();
            }
            return String.format(Locale.ROOT, "%d server bytes, %d FramebufferUpdates, %d rectangles%s, final framebuffer hash %d",
                    total, counts[0], counts[1], counts[2] > 0 ? "" : " (the final full update did not end in time)",
                    client.isReady() ? Arrays.hashCode(settled(client.framebuffer().pixels())) : 0);
        }
    }

    /** The pixels without their unused top byte (decoders may differ there). */
    static int[] settled(int[] pixels) {
        int[] out = new int[pixels.length];
        for (int i = 0; i < pixels.length; i++) out[i] = pixels[i] & 0xffffff;
        return out;
    }

    /** Encodings from TigerVNC-style names ({@code tight,copyrect,q6,c6}). */
    public static RfbEncodings encodings(String list) {
        List<Integer> codes = new ArrayList<>();
        for (String name : list.split(",")) {
            String n = name.trim().toLowerCase(Locale.ROOT);
            codes.add(switch (n) {
                case "raw" -> RfbEncodings.RAW;
                case "copyrect" -> RfbEncodings.COPY_RECT;
                case "hextile" -> RfbEncodings.HEXTILE;
                case "tight" -> RfbEncodings.TIGHT;
                case "zrle" -> RfbEncodings.ZRLE;
                case "desktopsize" -> RfbEncodings.DESKTOP_SIZE;
                case "lastrect" -> RfbEncodings.LAST_RECT;
                default -> {
                    if (n.matches("q[0-9]")) yield RfbEncodings.jpegQuality(n.charAt(1) - '0');
                    if (n.matches("c[0-9]")) yield RfbEncodings.compressLevel(n.charAt(1) - '0');
                    throw new IllegalArgumentException("unknown encoding " + n);
                }
            });
        }
        return new RfbEncodings(codes);
    }
}
