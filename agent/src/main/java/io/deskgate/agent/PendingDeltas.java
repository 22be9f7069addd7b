package io.deskgate.agent;

import io.deskgate.control.DesktopStatus;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The desktops' changes one report stream has not been sent yet (docs/architecture.md, "Report deltas"): the changes
 * of several desktops join one delta, and the delta due when the concentrator's session call is answered goes up with
 * the answer (control.proto {@code AgentCall.report_in_answer}) instead of as a message of its own. Bounded: a desktop
 * that changes again while its last change waits sends the waiting delta first (the concentrator checks every step, so
 * no step is merged into the next); at most {@link #MAX} desktops wait; the owner drains it whenever its loop has caught
 * up (unless an answer is due, which takes it), and at every heartbeat whatever is due.
 *
 * <p>Pure and single-threaded (the links' loop owns one per stream); no clock: it holds nothing longer than its owner's
 * loop, the answer it waits for, or the next heartbeat.
 */
final class PendingDeltas {
    /** The most desktops one delta carries before it is sent (well under the concentrators' report limit). */
    static final int MAX = 64;

    private final List<DesktopStatus> waiting = new ArrayList<>();
    private final Set<String> ids = new HashSet<>();

    /**
     * Adds the changes of one step; returns the deltas that must be sent now, in order, before anything else: the
     * waiting ones when one of {@code changed} waits already, and every {@link #MAX} desktops; usually none.
     */
    List<List<DesktopStatus>> add(List<DesktopStatus> changed) {
        List<List<DesktopStatus>> now = new ArrayList<>(0);
        for (DesktopStatus s : changed) {
            if (ids.contains(s.getDesktopId())) {
                now.add(take());
                break;
            }
        }
        for (DesktopStatus s : changed) {
            waiting.add(s);
            ids.add(s.getDesktopId());
            if (waiting.size() >= MAX) now.add(take());
        }
        return now;
    }

    /**
     * The owner's loop caught up: the delta to send now; empty when nothing waits, or when an answer is due on the
     * stream ({@code answerDue}), which carries it.
     */
    List<DesktopStatus> drain(boolean answerDue) {
        return answerDue ? List.of() : take();
    }

    /** Everything waiting, whatever is due (a heartbeat, an answer that carries it). */
    List<DesktopStatus> take() {
        if (waiting.isEmpty()) return List.of();
        List<DesktopStatus> out = List.copyOf(waiting);
        waiting.clear();
        ids.clear();
        return out;
    }

    boolean isEmpty() {
        return waiting.isEmpty();
    }
}
