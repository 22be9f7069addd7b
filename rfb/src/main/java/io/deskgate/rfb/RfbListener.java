package io.deskgate.rfb;

/**
 * What an {@link RfbClient} reports as it decodes server messages. Every method is called synchronously
 * from inside {@link RfbClient#receive}, on the thread that feeds the client; an implementation may read
 * the {@link Framebuffer} and may call the client's input methods ({@code requestUpdate}, ...) but must not
 * call {@code receive} re-entrantly.
 */
public interface RfbListener {
    /** ServerInit arrived: the framebuffer exists, and SetPixelFormat + SetEncodings are queued. */
    default void onServerInit(int width, int height, String name) {}

    /** The pixels of this rectangle were updated in the framebuffer (Raw, ZRLE, ...). */
    default void onRect(int x, int y, int w, int h) {}

    /** A CopyRect, already applied to the framebuffer. */
    default void onCopyRect(int srcX, int srcY, int x, int y, int w, int h) {}

    /** The framebuffer was resized (contents cleared to black) by the DesktopSize or ExtendedDesktopSize pseudo-encoding. */
    default void onDesktopSize(int width, int height) {}

    /** End of one FramebufferUpdate message. */
    default void onUpdateEnd() {}

    default void onBell() {}

    /** ServerCutText, decoded as Latin-1 (RFC 6143 §7.6.4). */
    default void onServerCutText(String text) {}

    /** The desktop's cursor changed (Cursor pseudo-encoding, only when requested). */
    default void onCursor(RfbCursor cursor) {}

    /**
     * An ExtendedDesktopSize rectangle (only when requested): the server supports SetDesktopSize from now on.
     * When it changes the framebuffer's size, {@link #onDesktopSize} comes first.
     */
    default void onExtendedDesktopSize(ExtendedDesktopSize layout) {}

    /**
     * EndOfContinuousUpdates (only when ContinuousUpdates was requested): the server supports
     * EnableContinuousUpdates, and continuous updates are off until the client enables them.
     */
    default void onEndOfContinuousUpdates() {}
}
