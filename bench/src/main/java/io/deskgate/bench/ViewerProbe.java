package io.deskgate.bench;

import io.deskgate.common.Status;
import io.deskgate.stream.StreamMessage;
import io.deskgate.stream.StreamMessage.CopyRect;
import io.deskgate.stream.StreamMessage.FrameAck;
import io.deskgate.stream.StreamMessage.FrameEnd;
import io.deskgate.stream.StreamMessage.Resize;
import io.deskgate.stream.StreamMessage.StatusMessage;
import io.deskgate.stream.StreamMessage.Tile;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * What {@link OpenBench} sees of one stream as a browser would (docs/protocol.md §1): fed down messages and
 * the time, it answers each {@code FRAME_END} with its {@code FRAME_ACK} and notes when the first frame
 * ended and when the picture became complete.
 *
 * <p>The picture is complete at the first {@code FRAME_END} at which every pixel of the canvas has been
 * painted since the last {@code RESIZE} (or since the probe was created): by a {@code TILE} lying inside
 * the canvas, or by a {@code COPY_RECT} whose whole source was already painted. An engine's refresh frame
 * ({@code RESIZE}, tiles of the whole framebuffer, {@code FRAME_END}) completes the picture on its own;
 * a frame of a few changed tiles does not. Tiles outside the canvas are ignored, as the browser does.
 *
 * <p>Pure and single-threaded: no socket, no clock. The owner calls it from one thread or under one lock.
 */
final class ViewerProbe {
    private int width;
    private int height;
    private boolean[] painted;
    private int paintedCount;
    private long firstFrameNs = Long.MIN_VALUE;
    private long fullPictureNs = Long.MIN_VALUE;
    private int frames;
    private Optional<String> failure = Optional.empty();

    /** A probe whose canvas is {@code width} x {@code height} (the launch answer's size), nothing painted yet. */
    ViewerProbe(int width, int height) {
        resize(width, height);
    }

    /**
     * One down message received at {@code nowNs}.
     *
     * @return the up messages to send in reply, in order: a {@code FRAME_ACK} for a {@code FRAME_END}, else none
     */
    List<StreamMessage> onDown(StreamMessage message, long nowNs) {
        switch (message) {
            case Resize r -> resize(r.w(), r.h());
            case Tile t -> { if (inside(t.x(), t.y(), t.w(), t.h())) paint(t.x(), t.y(), t.w(), t.h()); }
            case CopyRect c -> {
                if (inside(c.srcX(), c.srcY(), c.w(), c.h()) && inside(c.dstX(), c.dstY(), c.w(), c.h())
                        && allPainted(c.srcX(), c.srcY(), c.w(), c.h())) {
                    paint(c.dstX(), c.dstY(), c.w(), c.h());
                }
            }
            case FrameEnd f -> {
                frames++;
                if (firstFrameNs == Long.MIN_VALUE) firstFrameNs = nowNs;
                if (fullPictureNs == Long.MIN_VALUE && paintedCount == width * height) fullPictureNs = nowNs;
                return List.of(new FrameAck(f.frameId(), f.serverTimeMicros()));
            }
            case StatusMessage s -> {
                if (s.code() != Status.OK.protocolCode() && failure.isEmpty()) {
                    failure = Optional.of("the stream reported status " + s.code() + ": " + s.text());
                }
            }
            default -> { } // cursor and clipboard do not change the picture
        }
        return List.of();
    }

    /** When the first {@code FRAME_END} arrived. */
    OptionalLong firstFrameNs() {
        return firstFrameNs == Long.MIN_VALUE ? OptionalLong.empty() : OptionalLong.of(firstFrameNs);
    }

    /** When the picture became complete (see the class comment). */
    OptionalLong fullPictureNs() {
        return fullPictureNs == Long.MIN_VALUE ? OptionalLong.empty() : OptionalLong.of(fullPictureNs);
    }

    /** Whether the picture is complete. */
    boolean complete() {
        return fullPictureNs != Long.MIN_VALUE;
    }

    int framesReceived() {
        return frames;
    }

    /** The first non-OK {@code STATUS} the stream carried, as text. */
    Optional<String> failure() {
        return failure;
    }

    private void resize(int w, int h) {
        if (w < 1 || h < 1) throw new IllegalArgumentException("canvas size must be positive, was " + w + "x" + h);
        width = w;
        height = h;
        painted = new boolean[w * h];
        paintedCount = 0;
    }

    private boolean inside(int x, int y, int w, int h) {
        return w > 0 && h > 0 && x >= 0 && y >= 0 && x + w <= width && y + h <= height;
    }

    private void paint(int x, int y, int w, int h) {
        for (int row = y; row < y + h; row++) {
            int o = row * width + x;
            for (int i = o; i < o + w; i++) {
                if (!painted[i]) {
                    painted[i] = true;
                    paintedCount++;
                }
            }
        }
    }

    private boolean allPainted(int x, int y, int w, int h) {
        for (int row = y; row < y + h; row++) {
            int o = row * width + x;
            for (int i = o; i < o + w; i++) if (!painted[i]) return false;
        }
        return true;
    }
}
