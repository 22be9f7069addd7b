package io.deskgate.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.SortedSet;
import java.util.regex.Pattern;

/**
 * One section of a {@link ConfigFile} ({@code gateway}, or a nested one such as {@code gateway.stream}),
 * applied onto a config builder that already holds the defaults and the caller's wiring:
 * {@code mapper.readerForUpdating(builder)} calls the builder's {@code @JsonProperty} methods for the keys
 * the section has, and leaves every other value as it was. Immutable.
 */
public final class ConfigSection {
    private final ConfigFile file;
    private final String path;
    private final Optional<ObjectNode> node;

    ConfigSection(ConfigFile file, String path, Optional<ObjectNode> node) {
        this.file = file;
        this.path = path;
        this.node = node;
    }

    /** The keys a builder type accepts in a section, derived from its {@code @JsonProperty} methods. */
    public static SortedSet<String> keys(Class<?> builderType) {
        return ConfigMapper.keys(builderType);
    }

    /** The dotted path of this section. */
    public String path() { return path; }

    /** Whether the file has this section. */
    public boolean present() { return node.isPresent(); }

    /** The scalar {@code key} of this section as text, if it has one; anything but a non-empty scalar is an error. */
    public Optional<String> text(String key) {
        if (node.isEmpty() || !node.get().has(key)) return Optional.empty();
        com.fasterxml.jackson.databind.JsonNode n = node.get().get(key);
        if (!n.isValueNode() || n.isNull() || n.asText().isBlank()) throw at(key, "expected a non-empty value");
        return Optional.of(n.asText());
    }

    /** The error for {@code key}'s value in this section, naming the file, its line, the section and the key. */
    public ConfigException refuse(String key, String message) {
        return at(key, message);
    }

    /**
     * Sets each of this section's keys on {@code builder} (keys named in {@code subsections} are nested
     * sections the caller applies itself, and are skipped here) and returns it.
     *
     * @throws ConfigException for an unknown key, a value of the wrong type, or one a setter refuses, naming
     *                         the file, line, section and key
     */
    public <B> B applyTo(B builder, String... subsections) {
        if (node.isEmpty()) return builder;
        ObjectNode keys = node.get().deepCopy();
        for (String s : subsections) keys.remove(s);
        try {
            ConfigMapper.MAPPER.readerForUpdating(builder).readValue(keys);
        } catch (UnrecognizedPropertyException e) {
            String key = e.getPropertyName();
            List<String> known = new java.util.ArrayList<>();
            for (Object id : e.getKnownPropertyIds() == null ? Set.of() : e.getKnownPropertyIds()) known.add(id.toString());
            known.addAll(List.of(subsections));
            known.sort(null);
            throw at(key, "unknown key in section '" + path + "' (known: " + String.join(", ", known) + ")");
        } catch (JsonMappingException e) {
            String key = e.getPath().isEmpty() || e.getPath().getFirst().getFieldName() == null ? "" : e.getPath().getFirst().getFieldName();
            throw at(key, describe(e, keys.get(key)));
        } catch (JsonProcessingException e) {
            throw new ConfigException(ConfigFile.where(file.source(), -1) + path + ": " + ConfigFile.firstLine(e.getOriginalMessage()));
        } catch (IOException e) {
            throw new ConfigException(file.source() + ": " + path + ": " + e.getMessage());
        }
        return builder;
    }

    /**
     * The error for a config built from this section that its validation refused ({@code build()} threw
     * {@code e}): names the file and section, and the line of the first of the section's keys the message names.
     */
    public ConfigException invalid(IllegalArgumentException e) {
        String message = e.getMessage() == null ? e.toString() : e.getMessage();
        if (node.isPresent()) {
            for (Iterator<String> names = node.get().fieldNames(); names.hasNext(); ) {
                String key = names.next();
                if (Pattern.compile("(?<![\\w-])" + Pattern.quote(key) + "(?![\\w-])").matcher(message).find()) {
                    return at(key, message);
                }
            }
        }
        return new ConfigException(ConfigFile.where(file.source(), file.line(pointer())) + path + ": " + message);
    }

    private ConfigException at(String key, String message) {
        if (key.isEmpty()) return new ConfigException(ConfigFile.where(file.source(), file.line(pointer())) + path + ": " + message);
        return new ConfigException(ConfigFile.where(file.source(), file.line(pointer() + "/" + key)) + path + "." + key + ": " + message);
    }

    private String pointer() {
        return "/" + path.replace('.', '/');
    }

    private static String describe(JsonMappingException e, JsonNode value) {
        if (value != null && value.isNull()) return "has no value";
        if (e instanceof InvalidFormatException f && f.getTargetType() == Duration.class) {
            return ConfigFile.firstLine(e.getOriginalMessage());
        }
        if (e instanceof MismatchedInputException m && m.getTargetType() != null && value != null) {
            return "expected " + expected(m.getTargetType()) + ", got " + ConfigFile.kind(value);
        }
        Throwable cause = e.getCause();
        if (cause instanceof IllegalArgumentException || cause instanceof NullPointerException) return cause.getMessage();
        return ConfigFile.firstLine(e.getOriginalMessage());
    }

    private static String expected(Class<?> type) {
        if (type == int.class || type == Integer.class || type == long.class || type == Long.class) return "a whole number";
        if (type == float.class || type == double.class || type == Float.class || type == Double.class) return "a number";
        if (type == boolean.class || type == Boolean.class) return "true or false";
        if (type == String.class) return "a string";
        if (type == Duration.class) return "a duration such as 500ms, 30s, 2m, 8h or 1d";
        if (type == Path.class) return "a path";
        if (Collection.class.isAssignableFrom(type)) return "a list";
        return "a " + type.getSimpleName();
    }
}
