package io.deskgate.bench.workload;

import io.deskgate.bench.workload.Workload.Input;
import io.deskgate.bench.workload.Workload.Twin;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Issue 10's recorded workloads W1..W5 on a 1280x800 desktop with {@code twm}: the programs are ours (xterm and the
 * Java AWT programs of this package), nothing needs xdotool, ImageMagick or ffmpeg. Stateless.
 */
public final class Workloads {
    public static final int WIDTH = 1280;
    public static final int HEIGHT = 800;
    /** Keysyms of X11 (keysymdef.h) beyond Latin-1. */
    static final long XK_RETURN = 0xff0d;
    static final long XK_ESCAPE = 0xff1b;
    /** W5's text, typed at human speed (about 4 keys a second, with pauses). */
    static final String W5_TEXT = "ihello deskgate\ridle mostly\r";

    private Workloads() {}

    /** W1..W5, in order. */
    public static List<Workload> all() {
        List<String> java = List.of("{java}", "-Xmx256m", "-cp", "{cp}");
        return List.of(
                new Workload("w1", "scroll", "endless scroll: a default xterm (80x24) running `while :; do seq 1 1000; done`",
                        WIDTH, HEIGHT, List.of(List.of("xterm", "-geometry", "+20+20", "-e", "sh", "-c", "while :; do seq 1 1000; done")),
                        10, List.of(Twin.ZRLE, Twin.TIGHT), List.of(), true),
                new Workload("w2", "base64", "a full-screen xterm (212x55) printing random base64",
                        WIDTH, HEIGHT, List.of(List.of("xterm", "-geometry", "212x55+0+0", "-e", "sh", "-c", "base64 /dev/urandom")),
                        10, List.of(Twin.ZRLE, Twin.TIGHT), List.of(), true),
                new Workload("w3", "drag", "a window showing a photograph (seeded plasma, 480x360) moving itself across the desktop at 60 Hz",
                        WIDTH, HEIGHT, List.of(concat(java, List.of(PhotoWindow.class.getName(), "" + WIDTH, "" + HEIGHT))),
                        10, List.of(Twin.ZRLE, Twin.TIGHT_Q6), List.of(), false),
                new Workload("w4", "video", "video-like content: a 960x540 picture changing everywhere at 30 fps",
                        WIDTH, HEIGHT, List.of(concat(java, List.of(MovingPicture.class.getName(), "160", "100"))),
                        10, List.of(Twin.ZRLE, Twin.TIGHT_Q6), List.of(), false),
                new Workload("w5", "typing", "typing in an editor (vi in an xterm), keys sent over RFB at human speed, idle most of the time",
                        WIDTH, HEIGHT, List.of(List.of("xterm", "-geometry", "100x30+100+80", "-e", "vi", "/tmp/deskgate-w5.txt")),
                        10, List.of(Twin.ZRLE, Twin.TIGHT), typing(W5_TEXT, 400, 300_000, 250), true));
    }

    /** The workload {@code id} ({@code w1}) or {@code id-name}; IllegalArgumentException naming the known ones. */
    public static Workload byId(String idOrName) {
        String k = idOrName.toLowerCase(Locale.ROOT);
        for (Workload w : all()) if (w.id().equals(k) || (w.id() + "-" + w.name()).equals(k)) return w;
        throw new IllegalArgumentException("unknown workload '" + idOrName + "' (known: w1..w5)");
    }

    /**
     * The pointer onto the xterm of W5 (focus follows the pointer), then each character of {@code text} pressed and
     * released, one every {@code keyGapMs} ms, a pause of {@code pauseMs} after each word, and Escape at the end.
     */
    static List<Input> typing(String text, long startMs, long pauseMicros, long keyGapMs) {
        List<Input> out = new ArrayList<>();
        out.add(Input.pointer(startMs * 1000 - 200_000, 400, 250));
        long t = startMs * 1000;
        for (char c : text.toCharArray()) {
            long keysym = c == '\r' ? XK_RETURN : c;
            out.add(Input.key(t, keysym, true));
            out.add(Input.key(t + 60_000, keysym, false));
            t += keyGapMs * 1000 + (c == ' ' || c == '\r' ? pauseMicros : 0);
        }
        out.add(Input.key(t, XK_ESCAPE, true));
        out.add(Input.key(t + 60_000, XK_ESCAPE, false));
        return out;
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> out = new ArrayList<>(a);
        out.addAll(b);
        return out;
    }
}
