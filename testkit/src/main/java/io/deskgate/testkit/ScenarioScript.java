package io.deskgate.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.opentest4j.AssertionFailedError;

/**
 * Scenario tests as data, in the way of etcd-io/raft's {@code testdata/*.txt}: a script of events, each
 * with the output it is expected to produce, replayed against a pure core.
 *
 * <pre>
 * # a comment; blank lines and comments are kept as they are
 * &gt; attach viewer=1 at=0s
 * attached
 * &gt; tick at=60s
 * end VIEWER_GONE
 * </pre>
 *
 * A line starting with {@code >} is an event: a name, then arguments ({@code key=value} or bare words).
 * The lines right below it, up to a blank line, a comment or the next event, are its expected output,
 * one line per action of the core (an event with no output has none). The handler given for a file gets
 * the events in order and returns the output lines of each; the file passes when every event's output is
 * exactly what is written. Run with {@code -Ddeskgate.rewrite=true} to write the actual output into the
 * files instead (after a reviewed change of behaviour; review the diff before committing it). A malformed
 * script, or a handler that throws, fails with the file and line.
 */
public final class ScenarioScript {
    /** The system property that rewrites the expectations instead of checking them. */
    public static final String REWRITE_PROPERTY = "deskgate.rewrite";

    /** One {@code > name args} line. */
    public record Event(Path file, int line, String name, List<String> words, Map<String, String> args) {
        public Event {
            words = List.copyOf(words);
            // In written order, so that a replay that iterates over the arguments is deterministic.
            args = Collections.unmodifiableMap(new LinkedHashMap<>(args));
        }

        /** The value of {@code key=value}; fails naming the line when absent. */
        public String arg(String key) {
            String v = args.get(key);
            if (v == null) throw bad("missing argument " + key + "=");
            return v;
        }

        public String arg(String key, String orElse) { return args.getOrDefault(key, orElse); }

        public int intArg(String key) {
            try {
                return Integer.parseInt(arg(key));
            } catch (NumberFormatException e) {
                throw bad(key + " is not an integer: " + arg(key));
            }
        }

        public long longArg(String key) {
            try {
                return Long.parseLong(arg(key));
            } catch (NumberFormatException e) {
                throw bad(key + " is not an integer: " + arg(key));
            }
        }

        public int intArg(String key, int orElse) { return args.containsKey(key) ? intArg(key) : orElse; }

        public long longArg(String key, long orElse) { return args.containsKey(key) ? longArg(key) : orElse; }

        public boolean has(String word) { return words.contains(word); }

        /** A duration argument in nanoseconds: {@code 250ms}, {@code 30s}, {@code 2min}, {@code 5ns}. */
        public long nanosArg(String key) {
            return nanos(arg(key));
        }

        /** {@link #nanosArg(String)}, or the duration {@code orElse} when the argument is absent. */
        public long nanosArg(String key, String orElse) {
            return nanos(arg(key, orElse));
        }

        /** An error that names this event's file and line. */
        public IllegalArgumentException bad(String why) {
            return new IllegalArgumentException(file.getFileName() + ":" + line + ": " + name + ": " + why);
        }

        long nanos(String v) {
            String[][] units = {{"ns", "1"}, {"us", "1000"}, {"ms", "1000000"}, {"min", "60000000000"}, {"s", "1000000000"},
                    {"h", "3600000000000"}};
            for (String[] u : units) {
                if (v.endsWith(u[0]) && v.length() > u[0].length()) {
                    try {
                        return Math.multiplyExact(Long.parseLong(v.substring(0, v.length() - u[0].length())),
                                Long.parseLong(u[1]));
                    } catch (NumberFormatException | ArithmeticException e) {
                        break;
                    }
                }
            }
            throw bad("not a duration (e.g. 30s, 250ms): " + v);
        }
    }

    /** An event with the lines below it: its expected output, then what follows it untouched. */
    private record Block(Event event, String eventLine, List<String> expected, List<String> trailer) {}

    private ScenarioScript() {}

    /**
     * One dynamic test per {@code *.txt} file of {@code dir} (sorted by name), each replayed against a
     * fresh handler from {@code handlers}.
     */
    public static Stream<DynamicTest> tests(Path dir, Supplier<Function<Event, List<String>>> handlers) {
        List<Path> files;
        try (Stream<Path> s = Files.list(dir)) {
            files = s.filter(p -> p.getFileName().toString().endsWith(".txt")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list scenario files in " + dir.toAbsolutePath(), e);
        }
        if (files.isEmpty()) throw new IllegalStateException("no scenario files (*.txt) in " + dir.toAbsolutePath());
        return files.stream().map(f -> DynamicTest.dynamicTest(f.getFileName().toString(), f.toUri(),
                () -> run(f, handlers.get())));
    }

    /** Replays one file; rewrites it instead of failing when {@value #REWRITE_PROPERTY} is true. */
    public static void run(Path file, Function<Event, List<String>> handler) {
        run(file, handler, Boolean.getBoolean(REWRITE_PROPERTY));
    }

    static void run(Path file, Function<Event, List<String>> handler, boolean rewrite) {
        String original;
        try {
            original = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read scenario " + file, e);
        }
        List<String> head = new ArrayList<>();
        List<Block> blocks = parse(file, original, head);
        StringBuilder actual = new StringBuilder();
        head.forEach(l -> actual.append(l).append('\n'));
        String firstMismatch = null;
        for (Block b : blocks) {
            List<String> out;
            try {
                out = List.copyOf(handler.apply(b.event()));
            } catch (RuntimeException e) {
                throw new AssertionError(file.getFileName() + ":" + b.event().line() + ": " + b.eventLine() + " failed: " + e, e);
            }
            for (String l : out) {
                if (l.isBlank() || l.startsWith("#") || l.startsWith(">") || l.contains("\n")) {
                    throw new AssertionError(file.getFileName() + ":" + b.event().line()
                            + ": an output line must be one non-blank line not starting with # or >: '" + l + "'");
                }
            }
            if (firstMismatch == null && !out.equals(b.expected())) {
                firstMismatch = file.getFileName() + ":" + b.event().line() + ": " + b.eventLine() + "\n  expected: "
                        + b.expected() + "\n  actual:   " + out;
            }
            actual.append(b.eventLine()).append('\n');
            out.forEach(l -> actual.append(l).append('\n'));
            b.trailer().forEach(l -> actual.append(l).append('\n'));
        }
        if (firstMismatch == null) return;
        if (rewrite) {
            try {
                Files.writeString(file, actual.toString(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot rewrite scenario " + file, e);
            }
            return;
        }
        throw new AssertionFailedError(firstMismatch + "\n(after a reviewed change: -D" + REWRITE_PROPERTY
                + "=true rewrites the expectations)", original, actual.toString());
    }

    private static List<Block> parse(Path file, String text, List<String> head) {
        List<Block> blocks = new ArrayList<>();
        String[] lines = text.split("\n", -1);
        int n = lines.length;
        if (n > 0 && lines[n - 1].isEmpty()) n--; // the final newline
        int i = 0;
        while (i < n && !lines[i].startsWith(">")) {
            if (!lines[i].isBlank() && !lines[i].startsWith("#")) {
                throw new IllegalArgumentException(file.getFileName() + ":" + (i + 1) + ": output before the first event: " + lines[i]);
            }
            head.add(lines[i++]);
        }
        while (i < n) {
            String eventLine = lines[i];
            Event event = event(file, i + 1, eventLine);
            i++;
            List<String> expected = new ArrayList<>();
            while (i < n && !lines[i].isBlank() && !lines[i].startsWith("#") && !lines[i].startsWith(">")) expected.add(lines[i++]);
            List<String> trailer = new ArrayList<>();
            while (i < n && !lines[i].startsWith(">")) {
                if (!lines[i].isBlank() && !lines[i].startsWith("#")) {
                    throw new IllegalArgumentException(file.getFileName() + ":" + (i + 1)
                            + ": output must follow its event directly (no blank line or comment between): " + lines[i]);
                }
                trailer.add(lines[i++]);
            }
            blocks.add(new Block(event, eventLine, List.copyOf(expected), List.copyOf(trailer)));
        }
        return blocks;
    }

    private static Event event(Path file, int line, String text) {
        String[] parts = text.substring(1).trim().split("\\s+");
        if (parts.length == 0 || parts[0].isEmpty()) {
            throw new IllegalArgumentException(file.getFileName() + ":" + line + ": an event needs a name");
        }
        List<String> words = new ArrayList<>();
        Map<String, String> args = new LinkedHashMap<>();
        for (int k = 1; k < parts.length; k++) {
            int eq = parts[k].indexOf('=');
            if (eq > 0) {
                if (args.put(parts[k].substring(0, eq), parts[k].substring(eq + 1)) != null) {
                    throw new IllegalArgumentException(file.getFileName() + ":" + line + ": argument given twice: " + parts[k]);
                }
            } else {
                words.add(parts[k]);
            }
        }
        return new Event(file, line, parts[0], words, args);
    }
}
