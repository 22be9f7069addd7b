package io.deskgate.concentrator;

import io.deskgate.store.Names;
import java.util.List;
import java.util.Objects;

/**
 * What an agent says of itself in its hello, held once per agent: its labels (pools select agents by them) and
 * its desktops' host and framebuffer size (the listing shows them).
 *
 * @param labels each a {@link Names} name, at most {@value #MAX_LABELS}
 * @param host   where its desktops' RFB servers listen, at most 255 printable characters; empty if not said
 */
public record AgentInfo(List<String> labels, String host, int width, int height) {
    public static final int MAX_LABELS = 64;
    public static final AgentInfo NONE = new AgentInfo(List.of(), "", 0, 0);

    public AgentInfo {
        labels = List.copyOf(Objects.requireNonNull(labels, "labels"));
        Objects.requireNonNull(host, "host");
    }

    /** Why this is not a valid hello, or empty. */
    public String invalid() {
        if (labels.size() > MAX_LABELS) return "at most " + MAX_LABELS + " labels";
        for (String l : labels) if (!Names.valid(l)) return "a label is 1 to " + Names.MAX_LENGTH + " letters, digits, . _ @ -";
        if (host.length() > 255 || host.chars().anyMatch(c -> c <= 0x20 || c == 0x7f)) return "desktop host must be at most 255 printable characters";
        if (width < 0 || width > 8192 || height < 0 || height > 8192) return "width and height must be 0 to 8192";
        return "";
    }
}
