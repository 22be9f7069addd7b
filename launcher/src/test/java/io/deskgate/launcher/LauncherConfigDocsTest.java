package io.deskgate.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import io.deskgate.config.ConfigSection;
import io.deskgate.store.RegistryTiming;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * docs/configuration.md is the config file's reference: every key the reader accepts (found by
 * introspecting the builders, not from a list) is documented under its section and every documented key is
 * accepted; and its complete example, every key at its default, builds exactly the builders' defaults.
 */
class LauncherConfigDocsTest {
    private static final Path DOC = Path.of("").toAbsolutePath().getParent().resolve("docs/configuration.md");
    private static final Pattern HEADING = Pattern.compile("^#{2,3} (?:`([a-z.]+)`|Top level)\\s*$");
    private static final Pattern ROW = Pattern.compile("^\\| `([a-z0-9-]+)` \\|");

    /** Section ("" for the top level) to the keys its tables list. */
    private static Map<String, SortedSet<String>> documented() throws IOException {
        Map<String, SortedSet<String>> out = new TreeMap<>();
        String section = null;
        for (String line : Files.readAllLines(DOC)) {
            Matcher h = HEADING.matcher(line);
            if (h.matches()) {
                section = h.group(1) == null ? "" : h.group(1);
                continue;
            }
            if (line.startsWith("#")) section = null;
            Matcher r = ROW.matcher(line);
            if (r.find() && section != null) out.computeIfAbsent(section, s -> new TreeSet<>()).add(r.group(1));
        }
        return out;
    }

    /** Section to the keys the reader accepts there: the builder's keys, plus its nested sections' names. */
    private static Map<String, SortedSet<String>> accepted() {
        Map<String, SortedSet<String>> out = new TreeMap<>();
        out.put("", new TreeSet<>(List.of(DeskgateConfigFile.DATA)));
        DeskgateConfigFile.SECTIONS.forEach((section, builder) -> out.put(section, new TreeSet<>(ConfigSection.keys(builder))));
        DeskgateConfigFile.SECTIONS_WITH_ID.forEach(section -> out.get(section).add(DeskgateConfigFile.ID));
        return out;
    }

    static String example() throws IOException {
        String doc = Files.readString(DOC);
        int start = doc.indexOf("```yaml\n", doc.indexOf("## Complete example"));
        assertThat(start).as("a yaml block under '## Complete example' in %s", DOC).isPositive();
        start += "```yaml\n".length();
        return doc.substring(start, doc.indexOf("```", start));
    }

    @Test
    void shouldDocumentEveryAcceptedKeyUnderItsSectionAndAcceptEveryDocumentedOne() throws IOException {
        Map<String, SortedSet<String>> accepted = accepted();
        assertThat(accepted.get("gateway")).as("introspection finds the gateway's keys").contains("max-sessions", "upgrade-timeout")
                .doesNotContain("token-key", "stream-master-secret", "tls", "engine-idle-timeout-ns", "stream");
        assertThat(accepted.get("engine")).doesNotContain("control-secret");
        Map<String, SortedSet<String>> documented = documented();
        assertThat(documented).as("the sections and keys of %s", DOC).isEqualTo(accepted);
    }

    @Test
    void shouldBuildTheBuildersDefaultsFromTheDocumentedExample() throws IOException {
        DeskgateConfigFile file = DeskgateConfigFile.parse("configuration.md", example());
        Path data = Path.of("/var/lib/deskgate");
        assertThat(file.data()).contains(data);
        UpOptions fromFile = UpOptions.builder().file(file).build();
        UpOptions defaults = UpOptions.builder().dataDir(data).build();
        assertThat(fromFile.data()).isEqualTo(defaults.data());

        assertThat(fromFile.frontdoor(data)).hasToString(defaults.frontdoor(data).toString());
        byte[] key = new byte[32];
        assertThat(fromFile.gateway(fromFile.frontdoor(data)).tokenKey(key).streamMasterSecret(key).build())
                .hasToString(defaults.gateway(defaults.frontdoor(data)).tokenKey(key).streamMasterSecret(key).build().toString());
        assertThat(fromFile.engine().build()).hasToString(defaults.engine().build().toString());
        assertThat(fromFile.agent(data).build()).hasToString(defaults.agent(data).build().toString());
        assertThat(fromFile.broker().build()).hasToString(defaults.broker().build().toString());
        assertThat(fromFile.concentrator().build()).hasToString(defaults.concentrator().build().toString());
        assertThat(file.registry()).isEqualTo(RegistryTiming.DEFAULT);
        assertThat(file.id("gateway")).isEqualTo("gateway-1");

        // and the builders' defaults are what the doc's tables say, for a few that code and doc both spell out
        assertThat(defaults.engine().build().encoder().jpegQuality()).isEqualTo(0.85f);
        assertThat(defaults.gateway(defaults.frontdoor(data)).tokenKey(key).streamMasterSecret(key).build().wsPort())
                .as("up's gateway: the portal's port + 1").isEqualTo(8444);
    }
}
