package io.deskgate.systemtests;

import com.microsoft.playwright.Page;
import com.microsoft.playwright.options.BoundingBox;
import java.net.URI;

/** The portal's steps the browser tests share: logging in, and typing into the desktop's xterm through the viewer. */
final class PortalPage {
    private PortalPage() {}

    /** Opens the portal at {@code url} and logs in; returns once the desktop list shows an open button. */
    static void logIn(Page page, URI url, String username, String password) {
        page.navigate(url.toString());
        page.fill("#username", username);
        page.fill("#password", password);
        page.click("#login");
        page.waitForSelector(".desktop .open");
    }

    /**
     * Points at the xterm (focus follows the pointer, at desktop pixel 200,150 where twm puts it), types {@code line} and
     * Enter; then waits until the canvas differs from its snapshot taken before typing.
     */
    static void typeAndSeeTheCanvasChange(Page page, String line) {
        page.evaluate(ViewerPage.SNAPSHOT);
        BoundingBox box = page.locator("#screen").boundingBox();
        double scale = ViewerPage.scale(page);
        page.mouse().move(box.x + 200 * scale, box.y + 150 * scale);
        page.mouse().click(box.x + 200 * scale, box.y + 150 * scale);
        page.keyboard().type(line);
        page.keyboard().press("Enter");
        page.waitForFunction(ViewerPage.CHANGED_SINCE_SNAPSHOT);
    }
}
