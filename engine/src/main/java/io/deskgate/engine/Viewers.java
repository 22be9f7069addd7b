package io.deskgate.engine;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The viewers of one transcoding instance (docs/protocol.md §1.2): a set of viewers, each with its grace and
 * the input it holds down, and the instance's presence timers. Today's stream carries one viewer
 * ({@link #GATEWAY}: the gateway's browsers of the session); a second connection to the same socket or a
 * shared session adds more.
 *
 * <p>An instance starts with no viewer. From the desktop being ready ({@link #onReady}) until a first
 * viewer attaches, an <em>attach grace</em> of {@code attachGraceNs} runs. A viewer that leaves
 * ({@code VIEWER_LEFT}) keeps its place for {@code viewerGraceNs}; attaching again within that cancels its
 * grace. When no viewer is attached and every grace has passed, the instance ends
 * ({@link EndReason.Cause#VIEWER_GONE}, or {@link EndReason.Cause#NO_BROWSER_ATTACHED} when none ever came).
 * When the owner reports the gateway timed out ({@link #onPeerTimeout}) for {@code peerLostNs} without a
 * break, it ends with {@link EndReason.Cause#GATEWAY_LOST}. The end is sticky: a viewer that comes later
 * is refused.
 *
 * <p>Held input: each viewer's keys and pointer buttons held down are remembered; when that viewer leaves
 * or attaches again, and when the instance ends, they are released on the desktop (a key-up for each key,
 * a pointer event with no button at its last position), so nothing stays pressed after the browser that
 * pressed it went away.
 *
 * <p>Pure and single-threaded: time is an input. Not thread-safe.
 */
public final class Viewers {
    /** The one viewer the stream protocol carries today. */
    public static final int GATEWAY = 0;
    /** Viewers at most; attaching another is refused. */
    static final int MAX_VIEWERS = 16;
    /** Keys remembered as held down per viewer at most; a real keyboard holds far fewer, a hostile browser more. */
    static final int MAX_KEYS_HELD = 128;
    private static final Logger log = LoggerFactory.getLogger(Viewers.class);

    private static final class Viewer {
        boolean attached;
        long leftNs;
        /** Keysyms held down, in press order. */
        final Set<Long> keysHeld = new LinkedHashSet<>();
        int buttonsHeld;
        int pointerX;
        int pointerY;
    }

    private final Desktop desktop;
    private final long viewerGraceNs;
    private final long attachGraceNs;
    private final long peerLostNs;
    private final Map<Integer, Viewer> viewers = new LinkedHashMap<>();
    private boolean ready;
    private boolean attachGraceRunning;
    private long readyNs;
    private boolean everAttached;
    private boolean peerSilent;
    private long peerSilentSinceNs;
    private EndReason ended;

    /** @param desktop where held input is released */
    public Viewers(Desktop desktop, InstanceLimits limits) {
        this.desktop = desktop;
        this.viewerGraceNs = limits.viewerGraceNs();
        this.attachGraceNs = limits.attachGraceNs();
        this.peerLostNs = limits.peerLostNs();
    }

    /** The desktop is ready: the attach grace starts, unless a viewer already came. */
    public void onReady(long nowNs) {
        if (ready) return;
        ready = true;
        if (!everAttached && ended == null) {
            attachGraceRunning = true;
            readyNs = nowNs;
        }
    }

    /**
     * A viewer speaks: it attaches (or attaches again, ending its grace and releasing what it held before).
     * Returns true when it was not attached and now is; false when it already was, when the instance has
     * ended, or when {@link #MAX_VIEWERS} are there.
     */
    public boolean attach(int viewer, long nowNs) {
        if (ended != null) return false; // too late: the owner is closing the instance
        Viewer v = viewers.get(viewer);
        if (v != null && v.attached) return false;
        if (v == null) {
            if (viewers.size() >= MAX_VIEWERS) return false;
            v = new Viewer();
            viewers.put(viewer, v);
        } else {
            release(v); // normally released at VIEWER_LEFT already
        }
        log.debug(everAttached ? "viewer {} attached; streaming" : "first viewer {} attached; streaming", viewer);
        v.attached = true;
        everAttached = true;
        attachGraceRunning = false;
        return true;
    }

    /** A viewer left: its held input is released and its grace starts (from the first leave, not a repeated one). */
    public void leave(int viewer, long nowNs) {
        Viewer v = viewers.get(viewer);
        if (ended != null || v == null || !v.attached) return;
        v.attached = false;
        v.leftNs = nowNs;
        release(v);
        log.debug("viewer {} left; its place is kept for {} ms", viewer, viewerGraceNs / 1_000_000);
    }

    /** A key event of an attached viewer, on its way to the desktop. */
    public void onKey(int viewer, boolean down, long keysym) {
        Viewer v = viewers.get(viewer);
        if (v == null || !v.attached) return;
        if (!down) {
            v.keysHeld.remove(keysym);
        } else if (v.keysHeld.size() < MAX_KEYS_HELD) {
            v.keysHeld.add(keysym);
        }
    }

    /** A pointer event of an attached viewer, already clamped to the desktop, on its way there. */
    public void onPointer(int viewer, int x, int y, int buttonMask) {
        Viewer v = viewers.get(viewer);
        if (v == null || !v.attached) return;
        v.pointerX = x;
        v.pointerY = y;
        v.buttonsHeld = buttonMask;
    }

    /** Timer: drops the viewers whose grace passed; ends the instance when none is left, or none came in time. */
    public void tick(long nowNs) {
        if (ended != null) return;
        for (Iterator<Viewer> it = viewers.values().iterator(); it.hasNext(); ) {
            Viewer v = it.next();
            if (!v.attached && nowNs - v.leftNs >= viewerGraceNs) it.remove();
        }
        if (attachGraceRunning && nowNs - readyNs >= attachGraceNs) {
            end(EndReason.noBrowserAttached(attachGraceNs));
        } else if (everAttached && viewers.isEmpty()) {
            end(EndReason.viewerGone(viewerGraceNs));
        }
    }

    /**
     * Timer input from the owner: whether the stream session reports the gateway timed out now. When it
     * stays so for {@code peerLostNs}, the instance ends.
     */
    public void onPeerTimeout(boolean timedOut, long nowNs) {
        if (!timedOut) {
            peerSilent = false;
            return;
        }
        if (!peerSilent) {
            peerSilent = true;
            peerSilentSinceNs = nowNs;
        }
        if (ended == null && nowNs - peerSilentSinceNs >= peerLostNs) end(EndReason.gatewayLost(peerLostNs));
    }

    /** Whether some viewer is attached (the desktop's updates are wanted). */
    public boolean anyAttached() {
        for (Viewer v : viewers.values()) if (v.attached) return true;
        return false;
    }

    public boolean attached(int viewer) {
        Viewer v = viewers.get(viewer);
        return v != null && v.attached;
    }

    /** Viewers attached or in their grace. */
    public int size() { return viewers.size(); }

    /** Whether a viewer has attached at least once (so the attach grace is over). */
    public boolean everAttached() { return everAttached; }

    /** Why the instance should end (sticky), empty while it should not. */
    public Optional<EndReason> endReason() { return Optional.ofNullable(ended); }

    private void end(EndReason reason) {
        ended = reason;
        attachGraceRunning = false;
        for (Viewer v : viewers.values()) release(v);
        log.debug("{}: the instance should close", reason.detail());
    }

    /** Key-up for every key held, then the buttons up where the pointer is; a no-op when nothing is held. */
    private void release(Viewer v) {
        if (!v.keysHeld.isEmpty()) log.debug("releasing {} keys held by a viewer that went away", v.keysHeld.size());
        for (long keysym : v.keysHeld) desktop.keyEvent(false, keysym);
        v.keysHeld.clear();
        if (v.buttonsHeld != 0 && desktop.width() > 0 && desktop.height() > 0) {
            desktop.pointerEvent(clamp(v.pointerX, desktop.width() - 1), clamp(v.pointerY, desktop.height() - 1), 0);
        }
        v.buttonsHeld = 0;
    }

    static int clamp(int v, int max) {
        return Math.max(0, Math.min(max, v));
    }
}
