package io.deskgate.testkit;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

/**
 * A recorded RFB byte stream (server to client) with its timing: the chunks as the recorder read them from its
 * socket, each with the microseconds since the recording started. The file ({@code .rfbt.gz}) is gzip of
 * {@code "DGRT"}, a version byte {@code 1}, then per chunk a big-endian {@code long} of micros (never
 * decreasing), an {@code int} length (1 to 16 MiB) and that many bytes; it ends after the last chunk.
 * Immutable; safe from any thread.
 *
 * @param chunks in order, micros never decreasing
 */
public record TimedRecording(List<Chunk> chunks) {
    private static final byte[] MAGIC = {'D', 'G', 'R', 'T', 1};
    private static final int MAX_CHUNK = 16 << 20;

    /** Bytes read at {@code micros} after the start; the array is owned by the chunk. */
    public record Chunk(long micros, byte[] bytes) {
        public Chunk {
            if (micros < 0) throw new IllegalArgumentException("chunk micros must be >= 0, was " + micros);
            if (bytes.length == 0 || bytes.length > MAX_CHUNK) throw new IllegalArgumentException("chunk length must be 1.." + MAX_CHUNK + ", was " + bytes.length);
        }

        @Override public boolean equals(Object o) { return o instanceof Chunk c && c.micros == micros && Arrays.equals(c.bytes, bytes); }

        @Override public int hashCode() { return Long.hashCode(micros) * 31 + Arrays.hashCode(bytes); }
    }

    public TimedRecording {
        chunks = List.copyOf(chunks);
        for (int i = 1; i < chunks.size(); i++) {
            if (chunks.get(i).micros() < chunks.get(i - 1).micros()) throw new IllegalArgumentException("chunk " + i + " goes back in time");
        }
    }

    /** The recording {@code recordings/<name>} on the class path (module deskgate-recordings). */
    public static TimedRecording load(String name) {
        String resource = "/recordings/" + name;
        try (InputStream raw = TimedRecording.class.getResourceAsStream(resource)) {
            if (raw == null) throw new IllegalArgumentException("no recording " + resource + " on the classpath");
            return read(raw);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read recording " + resource, e);
        }
    }

    /** Reads a gzipped timed recording; IOException for anything not in the format. */
    public static TimedRecording read(InputStream gzipped) throws IOException {
        DataInputStream in = new DataInputStream(new GZIPInputStream(gzipped, 1 << 16));
        byte[] magic = new byte[MAGIC.length];
        in.readFully(magic);
        if (!Arrays.equals(magic, MAGIC)) throw new IOException("not a timed RFB recording (DGRT version 1)");
        List<Chunk> chunks = new ArrayList<>();
        while (true) {
            long micros;
            try {
                micros = in.readLong();
            } catch (EOFException end) {
                break;
            }
            int length = in.readInt();
            if (length < 1 || length > MAX_CHUNK) throw new IOException("bad chunk length " + length + " at chunk " + chunks.size());
            byte[] bytes = new byte[length];
            in.readFully(bytes);
            chunks.add(new Chunk(micros, bytes));
        }
        return new TimedRecording(chunks);
    }

    /** All bytes, concatenated. */
    public byte[] bytes() {
        ByteArrayOutputStream out = new ByteArrayOutputStream(Math.toIntExact(Math.min(Integer.MAX_VALUE - 8, totalBytes())));
        for (Chunk c : chunks) out.writeBytes(c.bytes());
        return out.toByteArray();
    }

    public long totalBytes() {
        long n = 0;
        for (Chunk c : chunks) n += c.bytes().length;
        return n;
    }

    /** Micros of the last chunk, 0 for none. */
    public long durationMicros() { return chunks.isEmpty() ? 0 : chunks.getLast().micros(); }

    /** Writes chunks as they come, in the format above. Not thread-safe. */
    public static final class Writer implements AutoCloseable {
        private final DataOutputStream out;
        private long lastMicros;

        public Writer(OutputStream target) throws IOException {
            out = new DataOutputStream(new GZIPOutputStream(target, 1 << 16));
            out.write(MAGIC);
        }

        public void write(long micros, byte[] bytes, int offset, int length) throws IOException {
            if (length == 0) return;
            if (micros < lastMicros) micros = lastMicros;
            lastMicros = micros;
            out.writeLong(micros);
            out.writeInt(length);
            out.write(bytes, offset, length);
        }

        @Override public void close() throws IOException { out.close(); }
    }
}
