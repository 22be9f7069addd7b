package io.deskgate.systemtests;

import java.awt.Toolkit;
import java.awt.datatransfer.Clipboard;
import java.awt.datatransfer.DataFlavor;
import java.awt.datatransfer.StringSelection;
import java.nio.charset.StandardCharsets;

/**
 * A desktop application's side of the clipboard, run as its own JVM on the desktop's X display (DISPLAY,
 * XAUTHORITY): {@code set TEXT} takes the CLIPBOARD selection with TEXT, prints {@code owned} and holds it until its
 * standard input closes; {@code get} prints the CLIPBOARD's text (nothing when it has none) and exits.
 */
public final class X11Clipboard {
    private X11Clipboard() {}

    public static void main(String[] args) throws Exception {
        Clipboard clipboard = Toolkit.getDefaultToolkit().getSystemClipboard();
        switch (args[0]) {
            case "set" -> {
                clipboard.setContents(new StringSelection(args[1]), null);
                System.out.println("owned");
                System.out.flush();
                System.in.transferTo(java.io.OutputStream.nullOutputStream()); // until the test closes stdin
            }
            case "get" -> {
                String text = clipboard.isDataFlavorAvailable(DataFlavor.stringFlavor)
                        ? (String) clipboard.getData(DataFlavor.stringFlavor) : "";
                System.out.write(text.getBytes(StandardCharsets.UTF_8));
                System.out.flush();
            }
            default -> throw new IllegalArgumentException("set TEXT | get");
        }
        System.exit(0);
    }
}
