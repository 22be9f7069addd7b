package io.deskgate.store;

import java.util.Map;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * What one running role instance says about itself when it registers. Immutable; validated when built.
 *
 * @param id          unique per role across the fleet: letters, digits, {@code . _ : -}, at most 128
 * @param incarnation one per start of the instance: a restart re-registers with a new one; another instance
 *                    that claims the same id while this one heartbeats is refused
 * @param addresses   named endpoints ({@link RegistryEntry#GRPC}, {@link RegistryEntry#WS}, {@link RegistryEntry#UDP})
 * @param capacity    what the instance holds at most (sessions, instances, desktops), at least 1
 * @param version     the instance's software version
 * @param labels      free key/value facts, e.g. a concentrator's set
 */
public record Registration(Role role, String id, UUID incarnation, Map<String, String> addresses, int capacity,
                           String version, Map<String, String> labels) {
    static final int MAX_ID_CHARS = 128;
    static final int MAX_VALUE_CHARS = 512;
    static final int MAX_ENTRIES = 32;
    static final Pattern ID = Pattern.compile("[A-Za-z0-9._:-]{1," + MAX_ID_CHARS + "}");
    private static final Pattern KEY = Pattern.compile("[a-z0-9][a-z0-9._-]{0,63}");

    public Registration {
        if (role == null || incarnation == null) throw new IllegalArgumentException("role and incarnation are required");
        if (id == null || !ID.matcher(id).matches()) {
            throw new IllegalArgumentException("registry id must be 1-" + MAX_ID_CHARS + " letters, digits or . _ : -");
        }
        if (capacity < 1) throw new IllegalArgumentException("capacity must be at least 1: " + capacity);
        if (version == null || version.isBlank() || version.length() > MAX_VALUE_CHARS) {
            throw new IllegalArgumentException("version must be 1-" + MAX_VALUE_CHARS + " characters");
        }
        addresses = checked("addresses", addresses);
        labels = checked("labels", labels);
    }

    private static Map<String, String> checked(String what, Map<String, String> map) {
        if (map == null) throw new IllegalArgumentException(what + " are required (may be empty)");
        if (map.size() > MAX_ENTRIES) throw new IllegalArgumentException("at most " + MAX_ENTRIES + " " + what);
        map.forEach((k, v) -> {
            if (k == null || !KEY.matcher(k).matches()) {
                throw new IllegalArgumentException(what + " keys are lower-case names: " + k);
            }
            if (v == null || v.isBlank() || v.length() > MAX_VALUE_CHARS) {
                throw new IllegalArgumentException(what + " value of " + k + " must be 1-" + MAX_VALUE_CHARS + " characters");
            }
        });
        return Map.copyOf(map);
    }
}
