package io.deskgate.systemtests;

import com.microsoft.playwright.Page;
import com.microsoft.playwright.options.BoundingBox;

/**
 * What the system tests read from the portal's viewer. The viewer draws in a Worker on an OffscreenCanvas, so the
 * page's canvas can no longer be read with getContext: {@code window.deskgate.pixels()} reads it in the worker and
 * {@code window.deskgate.size()} gives the desktop's size.
 */
final class ViewerPage {
    /** True once the canvas shows the desktop: not one flat colour (root, xterm, its text and twm's title: at least 3). */
    static final String SHOWS_A_DESKTOP = "async () => { if (!window.deskgate || !window.deskgate.pixels) return false;"
            + " const { w, data: d } = await window.deskgate.pixels(); if (w < 100) return false; const seen = new Set();"
            + " for (let i = 0; i < d.length; i += 4 * 97) { seen.add((d[i] << 16) | (d[i+1] << 8) | d[i+2]); if (seen.size >= 3) return true; }"
            + " return false; }";

    /** Keeps the canvas's pixels in {@code window.__before}. */
    static final String SNAPSHOT = "async () => { window.__before = (await window.deskgate.pixels()).data; }";

    /** True once more than 300 pixels differ from {@link #SNAPSHOT}'s. */
    static final String CHANGED_SINCE_SNAPSHOT = "async () => { const d = (await window.deskgate.pixels()).data; const b = window.__before;"
            + " if (!b || b.length !== d.length) return false; let changed = 0;"
            + " for (let i = 0; i < d.length; i += 4) { if (d[i] !== b[i] || d[i+1] !== b[i+1] || d[i+2] !== b[i+2]) changed++; }"
            + " return changed > 300; }";

    /** True once the desktop has the size of the viewer's area (the window): the browser asked and the desktop followed. */
    static final String DESKTOP_FITS_THE_WINDOW = "() => { const s = window.deskgate.size(); const a = document.querySelector('#viewer-view').getBoundingClientRect();"
            + " return s.w === Math.floor(a.width) && s.h === Math.floor(a.height); }";

    private ViewerPage() {}

    /** CSS pixels per desktop pixel of the canvas as shown. */
    static double scale(Page page) {
        BoundingBox box = page.locator("#screen").boundingBox();
        return box.width / ((Number) page.evaluate("() => window.deskgate.size().w")).doubleValue();
    }
}
