package io.deskgate.stream;

import io.deskgate.stream.StreamMessage.Tile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;

/**
 * One line of a tile format's golden vectors ({@code src/test/vectors/<format>-tiles.txt}, shared with the browser's
 * tests): {@code good|bad name desktopW desktopH <TILE message hex> rest}, where rest is the good tile's pixels (or what
 * the format's test makes of it) and the bad one's expected refusal. Lines starting with {@code #} and blank lines are
 * comments.
 */
record TileVector(boolean good, String name, int desktopW, int desktopH, Tile tile, String rest) {
    private static final HexFormat HEX = HexFormat.of();

    /** Every vector of {@code src/test/vectors/<file>}, in order. */
    static List<TileVector> load(String file) throws IOException {
        return Files.readAllLines(Path.of("src/test/vectors", file)).stream()
                .filter(l -> !l.startsWith("#") && !l.isBlank())
                .map(l -> {
                    String[] f = l.split(" ", 6);
                    return new TileVector(f[0].equals("good"), f[1], Integer.parseInt(f[2]), Integer.parseInt(f[3]),
                            (Tile) StreamCodec.decode(HEX.parseHex(f[4])), f[5]);
                })
                .toList();
    }
}
