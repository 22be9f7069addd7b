package io.deskgate.encode;

import io.deskgate.stream.GlyphTile;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * The encoder's copy of one ZSTREAM lane's glyph cache (GLYPHS tiles, {@link GlyphTile}): which glyph (a cell size and
 * its one-bit mask) each of the {@value GlyphTile#SLOTS} slots holds, filled in order and wrapping around exactly as
 * the decoder fills it, and the slot of each glyph. Cleared whenever the lane's stream starts anew (RESET). Not
 * thread-safe: one per {@link TileEncoder}.
 */
final class GlyphCache {
    /** A glyph: its cell size ({@code cw << 8 | ch}) and mask. */
    record Glyph(int shape, byte[] mask, int hash) {
        static Glyph of(int shape, byte[] mask) { return new Glyph(shape, mask, Arrays.hashCode(mask) * 31 + shape); }

        @Override public boolean equals(Object o) { return o instanceof Glyph g && g.shape == shape && Arrays.equals(g.mask, mask); }

        @Override public int hashCode() { return hash; }
    }

    private final Glyph[] slots = new Glyph[GlyphTile.SLOTS];
    private final Map<Glyph, Integer> slotOf = new HashMap<>();
    private int next;

    /** The slot holding {@code g}, or -1. */
    int slot(Glyph g) {
        Integer s = slotOf.get(g);
        return s == null ? -1 : s;
    }

    /** The slot the next new glyph goes into. */
    int next() { return next; }

    /** Adds {@code g} in the next slot (replacing what it held) and returns that slot. */
    int add(Glyph g) {
        int s = next;
        Glyph old = slots[s];
        if (old != null && slotOf.get(old) == s) slotOf.remove(old);
        slots[s] = g;
        slotOf.put(g, s);
        next = (next + 1) % GlyphTile.SLOTS;
        return s;
    }

    /** Empty, as a decoder's lane after RESET. */
    void clear() {
        Arrays.fill(slots, null);
        slotOf.clear();
        next = 0;
    }
}
