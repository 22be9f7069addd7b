package io.deskgate.config;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Durations as an operator writes them: a whole number and a unit ({@code 500ms}, {@code 30s}, {@code 2m},
 * {@code 8h}, {@code 1d}), or ISO-8601 ({@code PT30S}). Never negative; a bare number is refused, since
 * its unit would be a guess.
 */
public final class Durations {
    private static final Pattern SHORT = Pattern.compile("([0-9]{1,12})(ms|s|m|h|d)");

    private Durations() {}

    /** The duration {@code text} names; an {@link IllegalArgumentException} saying what is accepted otherwise. */
    public static Duration parse(String text) {
        String t = text.strip();
        Matcher m = SHORT.matcher(t);
        if (m.matches()) {
            long n = Long.parseLong(m.group(1));
            return switch (m.group(2)) {
                case "ms" -> Duration.ofMillis(n);
                case "s" -> Duration.ofSeconds(n);
                case "m" -> Duration.ofMinutes(n);
                case "h" -> Duration.ofHours(n);
                default -> Duration.ofDays(n);
            };
        }
        if (t.startsWith("P") || t.startsWith("p")) {
            Duration d;
            try {
                d = Duration.parse(t);
            } catch (DateTimeParseException e) {
                throw new IllegalArgumentException("not an ISO-8601 duration: " + t);
            }
            if (d.isNegative()) throw new IllegalArgumentException("a duration must not be negative: " + t);
            return d;
        }
        if (t.startsWith("-")) throw new IllegalArgumentException("a duration must not be negative: " + t);
        throw new IllegalArgumentException("not a duration: '" + t + "' (write e.g. 500ms, 30s, 2m, 8h, 1d or PT30S)");
    }
}
