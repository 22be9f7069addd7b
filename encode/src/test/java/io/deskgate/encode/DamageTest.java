package io.deskgate.encode;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.BitSet;
import org.junit.jupiter.api.Test;

class DamageTest {

    @Test
    void shouldCoverAPartialLastColumnAndRowWhenSizeIsNotAMultipleOfTheTile() {
        Damage d = new Damage(130, 70);
        assertThat(d.columns()).isEqualTo(3);
        assertThat(d.rows()).isEqualTo(2);
        d.add(129, 69, 1, 1);
        assertThat(d.take()).isEqualTo(bits(5));
    }

    @Test
    void shouldMarkEveryTileARectangleTouches() {
        Damage d = new Damage(256, 256);
        d.add(63, 10, 2, 60); // spans columns 0-1, rows 0-1
        assertThat(d.take()).isEqualTo(bits(0, 1, 4, 5));
    }

    @Test
    void shouldClipRectanglesToTheFramebufferAndIgnoreEmptyOnes() {
        Damage d = new Damage(100, 100);
        d.add(-50, -50, 60, 60);
        d.add(90, 90, 1000, 1000);
        d.add(10, 10, 0, 5);
        d.add(10, 10, -3, 5);
        d.add(200, 200, 10, 10);
        d.add(Integer.MAX_VALUE - 1, 0, Integer.MAX_VALUE, 10);
        assertThat(d.take()).isEqualTo(bits(0, 3));
    }

    @Test
    void shouldClearOnTakeAndReportEmptiness() {
        Damage d = new Damage(128, 128);
        assertThat(d.isEmpty()).isTrue();
        d.add(0, 0, 1, 1);
        assertThat(d.isEmpty()).isFalse();
        assertThat(d.isDirty(0, 0)).isTrue();
        assertThat(d.dirtyTiles()).isEqualTo(1);
        BitSet taken = d.take();
        assertThat(d.isEmpty()).isTrue();
        d.add(64, 64, 1, 1);
        assertThat(taken).isEqualTo(bits(0)); // the caller owns what it took
    }

    @Test
    void shouldMarkAllTilesAndForgetDamageOnResize() {
        Damage d = new Damage(65, 65);
        d.addAll();
        assertThat(d.dirtyTiles()).isEqualTo(4);
        d.resize(200, 10);
        assertThat(d.isEmpty()).isTrue();
        assertThat(d.columns()).isEqualTo(4);
        assertThat(d.rows()).isEqualTo(1);
        d.addAll();
        assertThat(d.take()).isEqualTo(bits(0, 1, 2, 3));
        d.clear();
        assertThat(d.isEmpty()).isTrue();
    }

    @Test
    void shouldHandleAnEmptyFramebuffer() {
        Damage d = new Damage(0, 0);
        d.add(0, 0, 10, 10);
        d.addAll();
        assertThat(d.isEmpty()).isTrue();
    }

    static BitSet bits(int... indices) {
        BitSet b = new BitSet();
        for (int i : indices) b.set(i);
        return b;
    }
}
