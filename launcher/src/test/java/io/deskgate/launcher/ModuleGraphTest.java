package io.deskgate.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;

/**
 * The module graph says what the code is (docs/architecture.md, "Rules that keep the roles separable"):
 * read from the reactor's poms and the modules' main sources, so that a forbidden edge fails the build
 * the day it is added, whether by a dependency or by an import.
 */
class ModuleGraphTest {
    private static final String DESKGATE = "io.deskgate";
    private static final Set<String> NOT_ON_THE_CLASS_PATH = Set.of("test");
    private static final Pattern IMPORT = Pattern.compile("(?m)^import\\s+(?:static\\s+)?([\\w.]+)");

    /** One dependency of a module's pom. */
    record Dependency(String groupId, String artifactId, String scope) {
        boolean deskgate() { return groupId.equals(DESKGATE); }

        /** The module's directory name: deskgate-stream is stream. */
        String module() { return artifactId.substring("deskgate-".length()); }
    }

    private static Path root;
    private static final Map<String, List<Dependency>> POMS = new LinkedHashMap<>();

    @BeforeAll
    static void readReactor() throws Exception {
        root = Path.of("").toAbsolutePath().getParent();
        Document parent = parse(root.resolve("pom.xml"));
        NodeList modules = parent.getElementsByTagName("module");
        for (int i = 0; i < modules.getLength(); i++) {
            String m = modules.item(i).getTextContent().strip();
            POMS.put(m, dependencies(parse(root.resolve(m).resolve("pom.xml"))));
        }
        assertThat(POMS).as("the reactor's modules, read from %s", root.resolve("pom.xml"))
                .containsKeys("common", "config", "stream", "control", "tls", "tokens", "encode", "launcher", "bench", "concentrator");
    }

    private static Document parse(Path pom) throws Exception {
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
        return f.newDocumentBuilder().parse(pom.toFile());
    }

    /** The project's own dependencies (not dependencyManagement's, not plugins'). */
    private static List<Dependency> dependencies(Document pom) {
        List<Dependency> out = new ArrayList<>();
        for (Node n = pom.getDocumentElement().getFirstChild(); n != null; n = n.getNextSibling()) {
            if (!(n instanceof Element e) || !e.getTagName().equals("dependencies")) continue;
            for (Node c = e.getFirstChild(); c != null; c = c.getNextSibling()) {
                if (!(c instanceof Element d) || !d.getTagName().equals("dependency")) continue;
                out.add(new Dependency(child(d, "groupId", ""), child(d, "artifactId", ""), child(d, "scope", "compile")));
            }
        }
        return out;
    }

    /** The text of {@code e}'s own child {@code tag} (not an exclusion's), or {@code missing}. */
    private static String child(Element e, String tag, String missing) {
        for (Node n = e.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element c && c.getTagName().equals(tag)) return c.getTextContent().strip();
        }
        return missing;
    }

    /**
     * Every dependency on {@code module}'s main class path: its own (but test scope), and, through each
     * Deskgate module it depends on, that module's compile and runtime ones (provided and test scopes are
     * not inherited), as Maven resolves them.
     */
    private static Set<Dependency> mainClassPath(String module) {
        Set<Dependency> out = new LinkedHashSet<>();
        Deque<String> pending = new ArrayDeque<>(List.of(module));
        Set<String> seen = new LinkedHashSet<>();
        boolean first = true;
        while (!pending.isEmpty()) {
            String m = pending.pop();
            if (!seen.add(m)) continue;
            for (Dependency d : POMS.getOrDefault(m, List.of())) {
                if (NOT_ON_THE_CLASS_PATH.contains(d.scope())) continue;
                if (!first && d.scope().equals("provided")) continue;
                out.add(d);
                if (d.deskgate()) pending.add(d.module());
            }
            first = false;
        }
        return out;
    }

    private static Set<String> deskgateModulesOnMainClassPath(String module) {
        Set<String> out = new TreeSet<>();
        for (Dependency d : mainClassPath(module)) if (d.deskgate()) out.add(d.module());
        return out;
    }

    /** Every import (and fully qualified io.* name) in the module's main sources, with the file it is in. */
    private static Map<String, String> mainReferences(String module) throws IOException {
        Map<String, String> out = new LinkedHashMap<>();
        Path src = root.resolve(module).resolve("src/main/java");
        if (!Files.isDirectory(src)) return out;
        try (Stream<Path> files = Files.walk(src)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                String text = Files.readString(f);
                Matcher m = IMPORT.matcher(text);
                while (m.find()) out.putIfAbsent(m.group(1), root.relativize(f).toString());
                Matcher q = Pattern.compile("\\b(io\\.(?:deskgate|grpc)\\.[\\w.]+|com\\.google\\.protobuf\\.[\\w.]+)").matcher(text);
                while (q.find()) out.putIfAbsent(q.group(1), root.relativize(f).toString());
            }
        }
        return out;
    }

    private static List<String> referencesTo(String module, String... prefixes) throws IOException {
        List<String> found = new ArrayList<>();
        mainReferences(module).forEach((name, file) -> {
            for (String p : prefixes) if (name.startsWith(p)) found.add(name + " in " + file);
        });
        return found;
    }

    @Test
    void encodeDoesNotDependOnRfb() throws IOException {
        assertThat(POMS.get("encode")).as("encode's pom, in any scope").noneMatch(d -> d.artifactId().equals("deskgate-rfb"));
        assertThat(deskgateModulesOnMainClassPath("encode")).doesNotContain("rfb");
        assertThat(referencesTo("encode", "io.deskgate.rfb.")).as("encode's sources").isEmpty();
    }

    @Test
    void theStreamModuleAndEncodeCarryNoGrpc() throws IOException {
        for (String m : List.of("stream", "encode")) {
            assertThat(mainClassPath(m)).as("%s's class path", m)
                    .noneMatch(d -> d.groupId().equals("io.grpc") || d.groupId().equals("com.google.protobuf"))
                    .noneMatch(d -> d.artifactId().equals("deskgate-control"));
            assertThat(referencesTo(m, "io.grpc.", "com.google.protobuf.", "io.deskgate.control."))
                    .as("%s's sources", m).isEmpty();
        }
    }

    /** The roles talk only over the control plane: none has another role on its class path or in its imports. */
    @Test
    void rolesDoNotDependOnEachOther() throws IOException {
        List<String> roles = List.of("agent", "concentrator", "broker", "engine", "gateway", "frontdoor");
        for (String m : roles) {
            Set<String> others = new TreeSet<>(roles);
            others.remove(m);
            assertThat(deskgateModulesOnMainClassPath(m)).as("%s's class path", m).doesNotContainAnyElementsOf(others);
            assertThat(referencesTo(m, others.stream().map(o -> "io.deskgate." + o + ".").toArray(String[]::new)))
                    .as("%s's sources", m).isEmpty();
        }
    }

    @Test
    void theLauncherRunsOnlyTheProduct() throws IOException {
        assertThat(deskgateModulesOnMainClassPath("launcher")).doesNotContain("bench", "testkit", "recordings");
        assertThat(referencesTo("launcher", "io.deskgate.bench.", "io.deskgate.testkit."))
                .as("the launcher's sources").isEmpty();
        POMS.forEach((m, deps) -> assertThat(deps).as("%s's pom: nothing depends on bench", m)
                .noneMatch(d -> d.artifactId().equals("deskgate-bench")));
    }

    @Test
    void commonHoldsOnlyWhatHasNoIoAndThreeOrMoreUsers() throws IOException {
        assertThat(POMS.get("common")).as("common depends on no other module").noneMatch(Dependency::deskgate);
        assertThat(referencesTo("common", "java.io.", "java.net.", "java.nio.file.", "java.nio.channels.",
                "java.sql.", "io.grpc.", "io.netty.")).as("common's sources do no I/O").isEmpty();

        Path src = root.resolve("common/src/main/java/io/deskgate/common");
        List<String> types;
        try (Stream<Path> files = Files.list(src)) {
            types = files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".java"))
                    .map(n -> n.substring(0, n.length() - ".java".length())).sorted().toList();
        }
        assertThat(types).isNotEmpty();
        Map<String, Set<String>> users = new LinkedHashMap<>();
        for (String t : types) users.put(t, new TreeSet<>());
        for (String m : POMS.keySet()) {
            if (m.equals("common")) continue;
            for (String name : mainReferences(m).keySet()) {
                for (String t : types) {
                    if (name.equals("io.deskgate.common." + t) || name.startsWith("io.deskgate.common." + t + ".")) {
                        users.get(t).add(m);
                    }
                }
            }
        }
        users.forEach((t, u) -> assertThat(u).as("modules whose main code uses common's %s", t).hasSizeGreaterThanOrEqualTo(3));
    }

    @Test
    void theConfigReaderDependsOnJacksonOnlyAndTheRolesNotOnIt() throws IOException {
        assertThat(POMS.get("config")).as("config's pom").isNotEmpty()
                .allMatch(d -> d.groupId().startsWith("com.fasterxml.jackson") || d.scope().equals("test"));
        assertThat(referencesTo("config", "io.deskgate.")).as("config's sources hold no role code")
                .allMatch(r -> r.startsWith("io.deskgate.config"));
        for (String m : List.of("stream", "encode", "engine", "gateway", "agent", "broker", "frontdoor")) {
            assertThat(referencesTo(m, "io.deskgate.config.", "com.fasterxml.jackson.databind.", "com.fasterxml.jackson.dataformat."))
                    .as("%s's config records carry Jackson's annotations only, never the reader", m)
                    .allMatch(r -> m.equals("frontdoor") && r.startsWith("com.fasterxml.jackson.databind."));
        }
    }

    @Test
    void everyChannelToTheControlPlaneComesFromControlChannels() throws IOException {
        Pattern builder = Pattern.compile("ManagedChannelBuilder|NettyChannelBuilder|newChannelBuilder");
        List<String> found = new ArrayList<>();
        for (String m : POMS.keySet()) {
            if (m.equals("control")) continue;
            Path src = root.resolve(m).resolve("src/main/java");
            if (!Files.isDirectory(src)) continue;
            try (Stream<Path> files = Files.walk(src)) {
                for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                    if (builder.matcher(Files.readString(f)).find()) found.add(root.relativize(f).toString());
                }
            }
        }
        assertThat(found).as("main sources building their own gRPC channel instead of ControlChannels.open").isEmpty();
    }

    @Test
    void packagesFollowModules() throws IOException {
        for (String m : POMS.keySet()) {
            String pkg = DESKGATE + "." + m.replace("-", "");
            for (String set : List.of("main", "test")) {
                Path src = root.resolve(m).resolve("src").resolve(set).resolve("java");
                if (!Files.isDirectory(src)) continue;
                try (Stream<Path> files = Files.walk(src)) {
                    for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                        // The module's package, or a package below it (bench's workload programs: io.deskgate.bench.workload).
                        assertThat(Files.readString(f)).as("%s is in package %s or below it", root.relativize(f), pkg)
                                .containsPattern("(?m)^package " + Pattern.quote(pkg) + "(\\.[a-z][a-z0-9]*)*;");
                    }
                }
            }
        }
    }
}
