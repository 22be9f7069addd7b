package io.deskgate.rfb;

/**
 * One screen of the desktop's layout (ExtendedDesktopSize and SetDesktopSize, rfbproto): a region of the
 * framebuffer with the server's id for it.
 *
 * @param id the server's screen id, 0..2^32-1
 * @param x 0..65535
 * @param y 0..65535
 * @param width 0..65535
 * @param height 0..65535
 * @param flags 0..2^32-1, unused by the protocol so far
 */
public record RfbScreen(long id, int x, int y, int width, int height, long flags) {
    public RfbScreen {
        if (id < 0 || id > 0xFFFF_FFFFL || flags < 0 || flags > 0xFFFF_FFFFL) {
            throw new IllegalArgumentException("screen id " + id + " or flags " + flags + " outside 0..2^32-1");
        }
        if ((x | y | width | height) < 0 || x > 0xFFFF || y > 0xFFFF || width > 0xFFFF || height > 0xFFFF) {
            throw new IllegalArgumentException("screen " + width + "x" + height + "+" + x + "+" + y + " outside 0..65535");
        }
    }
}
