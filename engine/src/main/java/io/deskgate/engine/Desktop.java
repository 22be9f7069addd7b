package io.deskgate.engine;

/**
 * The desktop side of a transcoding instance as {@link InstanceCore} sees it: the framebuffer's pixels
 * and the RFB client's input methods. In production it is an {@link io.deskgate.rfb.RfbClient}; tests
 * use a plain pixel array.
 *
 * <p>Called only by the thread that owns the instance's core (see {@link TranscodingInstance}).
 */
public interface Desktop {
    int width();

    int height();

    /** The live framebuffer, {@code 0x00RRGGBB} row-major, {@code width() * height()} pixels at least. */
    int[] pixels();

    void requestUpdate(boolean incremental);

    void keyEvent(boolean down, long keysym);

    void pointerEvent(int x, int y, int buttonMask);

    void clientCutText(String text);

    /**
     * Asks the desktop for a new framebuffer size (SetDesktopSize); called only after the desktop offered
     * ExtendedDesktopSize ({@link InstanceCore#onExtendedDesktopSize}). The answer comes as events.
     */
    default void setDesktopSize(int width, int height) {
        throw new UnsupportedOperationException("this desktop cannot be resized");
    }
}
