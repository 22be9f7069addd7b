package io.deskgate.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.zip.GZIPInputStream;

/**
 * Recorded byte streams kept as test data under {@code recordings/} on the classpath, from the resource-only
 * module {@code deskgate-recordings} (see the README there for how each was made). Stateless; safe from any
 * thread.
 */
public final class Recordings {
    private Recordings() {}

    /**
     * The gunzipped bytes of {@code recordings/<name>} (for example {@code "xterm-zrle.rfb.gz"}).
     *
     * @throws IllegalArgumentException if no such recording exists
     */
    public static byte[] load(String name) {
        String resource = "/recordings/" + name;
        try (InputStream raw = Recordings.class.getResourceAsStream(resource)) {
            if (raw == null) throw new IllegalArgumentException("no recording " + resource + " on the classpath");
            try (InputStream in = name.endsWith(".gz") ? new GZIPInputStream(raw, 1 << 16) : raw) {
                return in.readAllBytes();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read recording " + resource, e);
        }
    }
}
