package io.deskgate.config;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * One YAML config file, parsed and held as a tree of sections (a section is a mapping of keys; a key's
 * value is a scalar, a list, or a nested section). Immutable. Reading it checks only that it is a
 * bounded, well-formed YAML mapping; each section's keys are checked when the section is applied onto a
 * builder ({@link ConfigSection#applyTo}). Every error is a {@link ConfigException} naming the file and,
 * where it has one, the line.
 */
public final class ConfigFile {
    /** Larger files are refused unread: a config file is a page or two. */
    public static final int MAX_BYTES = 1 << 20;

    private final String source;
    private final ObjectNode root;
    private final Map<String, Integer> lines;

    private ConfigFile(String source, ObjectNode root, Map<String, Integer> lines) {
        this.source = source;
        this.root = root;
        this.lines = Map.copyOf(lines);
    }

    /** A file with no sections: every builder keeps what it holds. */
    public static ConfigFile empty() {
        return new ConfigFile("(no config file)", ConfigMapper.MAPPER.createObjectNode(), Map.of());
    }

    /** Reads and parses {@code file}; a missing, unreadable, oversized or malformed one is a {@link ConfigException}. */
    public static ConfigFile read(Path file) {
        String name = file.toString();
        if (Files.isDirectory(file)) throw new ConfigException("config file " + name + " is a directory");
        byte[] bytes;
        try (InputStream in = Files.newInputStream(file)) {
            bytes = in.readNBytes(MAX_BYTES + 1);
        } catch (NoSuchFileException e) {
            throw new ConfigException("config file " + name + " does not exist");
        } catch (IOException | SecurityException e) {
            throw new ConfigException("config file " + name + " cannot be read: " + e.getMessage());
        }
        if (bytes.length > MAX_BYTES) {
            throw new ConfigException("config file " + name + " is larger than " + MAX_BYTES + " bytes");
        }
        return parse(name, new String(bytes, StandardCharsets.UTF_8));
    }

    /** Parses {@code yaml}; {@code source} names it in messages (a file name). */
    public static ConfigFile parse(String source, String yaml) {
        if (yaml.length() > MAX_BYTES) throw new ConfigException(source + " is larger than " + MAX_BYTES + " bytes");
        JsonNode tree;
        Map<String, Integer> lines = new HashMap<>();
        try {
            tree = ConfigMapper.MAPPER.readTree(yaml);
            try (JsonParser p = ConfigMapper.MAPPER.createParser(yaml)) {
                for (JsonToken t = p.nextToken(); t != null; t = p.nextToken()) {
                    if (t == JsonToken.FIELD_NAME) {
                        lines.putIfAbsent(p.getParsingContext().pathAsPointer().toString(), p.currentTokenLocation().getLineNr());
                    }
                }
            }
        } catch (JsonProcessingException e) {
            int line = e.getLocation() == null ? -1 : e.getLocation().getLineNr();
            throw new ConfigException(where(source, line) + "not valid YAML: " + firstLine(e.getOriginalMessage()));
        } catch (IOException e) {
            throw new ConfigException(source + ": cannot be parsed: " + firstLine(e.getMessage()));
        }
        if (tree == null || tree.isMissingNode() || tree.isNull()) return new ConfigFile(source, ConfigMapper.MAPPER.createObjectNode(), lines);
        if (!(tree instanceof ObjectNode object)) {
            throw new ConfigException(source + ": must be a mapping of sections (such as 'gateway:'), not a " + kind(tree));
        }
        return new ConfigFile(source, object, lines);
    }

    /** The file's name, as messages give it. */
    public String source() { return source; }

    /** Refuses a top-level key that is not one of {@code known}, naming it and its line. */
    public void requireOnly(Set<String> known) {
        for (Iterator<String> names = root.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!known.contains(name)) {
                throw new ConfigException(where(source, line("/" + name)) + "unknown section '" + name + "' (known: "
                        + String.join(", ", new java.util.TreeSet<>(known)) + ")");
            }
        }
    }

    /** The top-level scalar {@code key} as text, if the file has it; anything but a scalar is an error. */
    public Optional<String> text(String key) {
        JsonNode n = root.get(key);
        if (n == null) return Optional.empty();
        if (!n.isValueNode() || n.isNull() || n.asText().isBlank()) {
            throw new ConfigException(where(source, line("/" + key)) + key + ": expected a non-empty value");
        }
        return Optional.of(n.asText());
    }

    /**
     * The section at {@code path}, dotted for a nested one ({@code gateway.stream}); an empty section when the
     * file has none. A key at that path that is not a mapping is an error.
     */
    public ConfigSection section(String path) {
        JsonNode n = root;
        StringBuilder pointer = new StringBuilder();
        for (String part : path.split("\\.")) {
            pointer.append('/').append(part);
            n = n.get(part);
            if (n == null) return new ConfigSection(this, path, Optional.empty());
            if (!(n instanceof ObjectNode)) {
                throw new ConfigException(where(source, line(pointer.toString())) + path
                        + " must be a section (a mapping of keys), not a " + kind(n));
            }
        }
        return new ConfigSection(this, path, Optional.of((ObjectNode) n));
    }

    /** The line of the key at this JSON pointer ({@code /gateway/stream/nack-delay}), or -1. */
    int line(String pointer) {
        return lines.getOrDefault(pointer, -1);
    }

    static String where(String source, int line) {
        return line > 0 ? source + " line " + line + ": " : source + ": ";
    }

    static String firstLine(String message) {
        if (message == null) return "";
        String s = message.strip();
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl).strip();
    }

    static String kind(JsonNode n) {
        if (n.isArray()) return "list";
        if (n.isObject()) return "section";
        if (n.isNull()) return "empty value";
        return "value (" + n.asText() + ")";
    }
}
