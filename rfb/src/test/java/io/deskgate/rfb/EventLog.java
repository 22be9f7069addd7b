package io.deskgate.rfb;

import java.util.ArrayList;
import java.util.List;

/** An {@link RfbListener} for tests that records each callback as a line of text and counts them. */
final class EventLog implements RfbListener {
    final List<String> events = new ArrayList<>();
    long updates;
    long rects;
    long rectPixels;
    long copyRects;

    @Override public void onServerInit(int width, int height, String name) { events.add("init " + width + "x" + height + " " + name); }

    @Override public void onRect(int x, int y, int w, int h) {
        rects++;
        rectPixels += (long) w * h;
        if (events.size() < 10_000) events.add("rect " + x + "," + y + " " + w + "x" + h);
    }

    @Override public void onCopyRect(int srcX, int srcY, int x, int y, int w, int h) {
        copyRects++;
        if (events.size() < 10_000) events.add("copy " + srcX + "," + srcY + " -> " + x + "," + y + " " + w + "x" + h);
    }

    @Override public void onDesktopSize(int width, int height) { events.add("size " + width + "x" + height); }

    @Override public void onUpdateEnd() {
        updates++;
        if (events.size() < 10_000) events.add("end");
    }

    @Override public void onBell() { events.add("bell"); }

    @Override public void onServerCutText(String text) { events.add("cut " + text); }

    final java.util.List<RfbCursor> cursors = new ArrayList<>();
    final java.util.List<ExtendedDesktopSize> layouts = new ArrayList<>();

    @Override public void onCursor(RfbCursor cursor) {
        if (cursors.size() < 100) cursors.add(cursor);
        if (events.size() < 10_000) events.add("cursor " + cursor.width() + "x" + cursor.height() + " at " + cursor.hotspotX() + "," + cursor.hotspotY());
    }

    @Override public void onExtendedDesktopSize(ExtendedDesktopSize layout) {
        if (layouts.size() < 100) layouts.add(layout);
        if (events.size() < 10_000) {
            events.add("layout " + layout.reason() + "/" + layout.status() + " " + layout.width() + "x" + layout.height() + " screens " + layout.screens().size());
        }
    }

    @Override public void onEndOfContinuousUpdates() { if (events.size() < 10_000) events.add("end of continuous updates"); }
}
