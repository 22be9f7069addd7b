package io.deskgate.rfb;

import java.util.List;

/**
 * An ExtendedDesktopSize rectangle (pseudo-encoding -308, rfbproto): the framebuffer's size and screen
 * layout, why it was sent and, for a change this client asked for, whether the server made it.
 *
 * @param reason {@link #REASON_SERVER}, {@link #REASON_THIS_CLIENT} or {@link #REASON_OTHER_CLIENT} (other values
 *     are passed on as sent)
 * @param status {@link #STATUS_OK} or the server's error code (1 prohibited, 2 out of resources, 3 invalid layout)
 * @param width the framebuffer width (meaningful when {@code status} is OK)
 * @param height the framebuffer height (meaningful when {@code status} is OK)
 * @param screens the layout, 0..255 screens
 */
public record ExtendedDesktopSize(int reason, int status, int width, int height, List<RfbScreen> screens) {
    public static final int REASON_SERVER = 0;
    public static final int REASON_THIS_CLIENT = 1;
    public static final int REASON_OTHER_CLIENT = 2;
    public static final int STATUS_OK = 0;

    public ExtendedDesktopSize {
        screens = List.copyOf(screens);
        if (screens.size() > 255) throw new IllegalArgumentException(screens.size() + " screens");
    }

    public boolean ok() {
        return status == STATUS_OK;
    }
}
