package io.deskgate.engine;

import java.util.Optional;

/**
 * When a transcoding instance asks its desktop for a new size (docs/protocol.md §1.2, {@code RESIZE_REQUEST}): the
 * browser's wish is clamped to {@link #MIN_WIDTH}x{@link #MIN_HEIGHT} .. {@link #MAX_WIDTH}x{@link #MAX_HEIGHT}; only
 * the latest wish counts (one from before the desktop offered ExtendedDesktopSize waits for the offer); at most one
 * SetDesktopSize waits for the desktop's answer (up to {@link #ANSWER_DEADLINE_NS}), and two are at least
 * {@link #MIN_INTERVAL_NS} apart, so a browser that floods requests costs the desktop two resizes a second at most.
 *
 * <p>Pure and single-threaded: events in, the size to ask for out, time as {@code nowNs}.
 */
final class DesktopResizer {
    static final int MIN_WIDTH = 320;
    static final int MIN_HEIGHT = 200;
    static final int MAX_WIDTH = 3840;
    static final int MAX_HEIGHT = 2400;
    static final long MIN_INTERVAL_NS = 500_000_000L;
    static final long ANSWER_DEADLINE_NS = 5_000_000_000L;

    /** A size to ask the desktop for. */
    record Size(int width, int height) {}

    private boolean offered;
    private Size wanted;
    private boolean awaitingAnswer;
    private long lastSentNs;
    private boolean sentOnce;

    /** The desktop sent an ExtendedDesktopSize rectangle: it takes SetDesktopSize from now on. */
    void offered() {
        offered = true;
    }

    /** The browser asked for {@code w}x{@code h}; it replaces any earlier wish not yet asked for. */
    void request(int w, int h) {
        wanted = new Size(clamp(w, MIN_WIDTH, MAX_WIDTH), clamp(h, MIN_HEIGHT, MAX_HEIGHT));
    }

    /** The desktop answered the SetDesktopSize asked for (made it or refused it). */
    void answered() {
        awaitingAnswer = false;
    }

    /**
     * The size to send SetDesktopSize for now, given the desktop's current size; empty when there is no wish, it is the
     * current size, the desktop has not offered resizing, an answer is awaited or the last request is too recent.
     */
    Optional<Size> poll(int currentW, int currentH, long nowNs) {
        if (wanted == null || !offered) return Optional.empty();
        if (wanted.width() == currentW && wanted.height() == currentH && !awaitingAnswer) {
            wanted = null;
            return Optional.empty();
        }
        if (awaitingAnswer && nowNs - lastSentNs < ANSWER_DEADLINE_NS) return Optional.empty();
        if (sentOnce && nowNs - lastSentNs < MIN_INTERVAL_NS) return Optional.empty();
        if (wanted.width() == currentW && wanted.height() == currentH) {
            wanted = null;
            awaitingAnswer = false;
            return Optional.empty();
        }
        Size s = wanted;
        wanted = null;
        awaitingAnswer = true;
        sentOnce = true;
        lastSentNs = nowNs;
        return Optional.of(s);
    }

    private static int clamp(int v, int min, int max) {
        return Math.max(min, Math.min(max, v));
    }
}
