package io.deskgate.bench.workload;

import java.util.List;

/**
 * One recorded workload (issue 10: W1..W5): the programs that make it on an X desktop of the given size, how long
 * it is recorded, the RFB streams recorded of it at once ({@link Twin}), and the input sent over RFB while it runs.
 * The same description runs it live on a desktop (a bench client), and names its recordings:
 * {@code recordings/<id>-<name>.<twin>.rfbt.gz}. Immutable.
 *
 * @param id        {@code w1}..{@code w5}
 * @param name      a short name ({@code scroll})
 * @param programs  commands started, in order, with {@code DISPLAY} set; {@code {java}} and {@code {cp}} stand for the
 *                  JDK's java and the bench module's class path (the workload programs shipped with it)
 * @param seconds   how long the streams are recorded (after the programs settle)
 * @param twins     the streams recorded, the replay stream {@link Twin#ZRLE} first
 * @param input     key and pointer events sent over the replay stream's connection, at their times
 * @param textLike  whether the workload is text (its Tight twin is lossless) or photographic (JPEG quality 6)
 */
public record Workload(String id, String name, String description, int width, int height, List<List<String>> programs,
        int seconds, List<Twin> twins, List<Input> input, boolean textLike) {

    public Workload {
        if (!id.matches("w[0-9]+")) throw new IllegalArgumentException("workload id must be w<n>: " + id);
        if (!name.matches("[a-z0-9-]+")) throw new IllegalArgumentException("workload name must be lower-case: " + name);
        if (width < 64 || height < 64) throw new IllegalArgumentException("desktop too small: " + width + "x" + height);
        if (seconds < 1) throw new IllegalArgumentException("seconds must be >= 1: " + seconds);
        programs = programs.stream().map(List::copyOf).toList();
        twins = List.copyOf(twins);
        input = List.copyOf(input);
        if (twins.isEmpty() || twins.getFirst() != Twin.ZRLE) throw new IllegalArgumentException("the ZRLE replay stream comes first");
    }

    /**
     * The programs' commands with {@code {java}} and {@code {cp}} replaced: what to start, with {@code DISPLAY} set, to
     * run the workload on a desktop (the recorder's, or a live one).
     */
    public List<List<String>> commands(String java, String classPath) {
        return programs.stream().map(c -> c.stream().map(s -> s.replace("{java}", java).replace("{cp}", classPath)).toList()).toList();
    }

    /** The file name of one twin's recording. */
    public String recording(Twin twin) { return id + "-" + name + "." + twin.suffix + ".rfbt.gz"; }

    /** The Tight twin the bench compares with: lossless for text, quality 6 for photographic content. */
    public Twin tightTwin() { return textLike ? Twin.TIGHT : Twin.TIGHT_Q6; }

    /** An RFB stream recorded of a workload, by the encodings its client asked for (TigerVNC names). */
    public enum Twin {
        /** What the engine asks today: the replay stream. */
        ZRLE("zrle", "zrle,copyrect,raw,desktopsize,lastrect"),
        /** TigerVNC's lossless Tight (no JPEG quality level asked), compression level 6. */
        TIGHT("tight", "tight,copyrect,raw,desktopsize,lastrect,c6"),
        /** Tight with JPEG quality level 6, compression level 6. */
        TIGHT_Q6("tight-q6", "tight,copyrect,raw,desktopsize,lastrect,q6,c6");

        public final String suffix;
        /** Comma list of encoding names for {@code RfbEncodingNames}. */
        public final String encodings;

        Twin(String suffix, String encodings) {
            this.suffix = suffix;
            this.encodings = encodings;
        }
    }

    /**
     * One input event at {@code micros} after recording starts: a key ({@code keysym}, {@code down}) or, when
     * {@code keysym} is -1, the pointer moving to ({@code x}, {@code y}) with no button.
     */
    public record Input(long micros, long keysym, boolean down, int x, int y) {
        public Input {
            if (micros < 0) throw new IllegalArgumentException("input micros must be >= 0");
        }

        public static Input pointer(long micros, int x, int y) { return new Input(micros, -1, false, x, y); }

        public static Input key(long micros, long keysym, boolean down) { return new Input(micros, keysym, down, 0, 0); }

        public boolean isPointer() { return keysym < 0; }
    }
}
