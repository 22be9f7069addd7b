package io.deskgate.agent;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Counts established TCP connections to a local port from the kernel's tables ({@code /proc/net/tcp}
 * and {@code /proc/net/tcp6}): how the agent notices that the viewer of an IN_USE desktop has left,
 * since Xvnc does not report it. The parser is fed the tables' text and owns no file. Stateless.
 */
final class RfbViewerCount {
    /** Column indexes in a table row: {@code sl local_address rem_address st ...}. */
    static final int LOCAL_ADDRESS_COLUMN = 1;
    static final int STATE_COLUMN = 3;
    /** {@code TCP_ESTABLISHED} in the kernel's {@code st} column (hex). */
    static final String ESTABLISHED = "01";
    static final Path[] TABLES = {Path.of("/proc/net/tcp"), Path.of("/proc/net/tcp6")};

    private RfbViewerCount() {}

    /** Established connections whose local port is {@code port} in one table's text. */
    static int count(String table, int port) {
        String portHex = String.format(":%04X", port);
        int n = 0;
        for (String line : table.split("\n")) {
            String[] cols = line.trim().split("\\s+");
            if (cols.length <= STATE_COLUMN || !cols[0].endsWith(":")) continue;
            if (cols[LOCAL_ADDRESS_COLUMN].toUpperCase().endsWith(portHex) && ESTABLISHED.equals(cols[STATE_COLUMN])) n++;
        }
        return n;
    }

    /** The text of the IPv4 and IPv6 tables, concatenated; empty if unreadable. */
    static String readTables() {
        StringBuilder text = new StringBuilder();
        for (Path table : TABLES) {
            try {
                if (Files.isReadable(table)) text.append(Files.readString(table)).append('\n');
            } catch (IOException e) {
                return "";
            }
        }
        return text.toString();
    }
}
