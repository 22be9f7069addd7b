package io.deskgate.testkit;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Assumptions;

/**
 * Gates for tests that need something outside the JVM (Xvnc, Chromium, root). In CI ({@code CI=true})
 * a missing prerequisite fails the test loudly; elsewhere the test is skipped with a message naming
 * what is missing and how to install it.
 */
public final class Prerequisites {
    private Prerequisites() {}

    public static boolean inCi() {
        return "true".equalsIgnoreCase(System.getenv("CI"));
    }

    /** The absolute path of {@code command} on PATH (or in /usr/bin, /usr/sbin), if any. */
    public static Optional<Path> which(String command) {
        String path = System.getenv().getOrDefault("PATH", "") + ":/usr/bin:/usr/sbin:/bin";
        for (String dir : path.split(":")) {
            if (dir.isEmpty()) continue;
            Path p = Path.of(dir, command);
            if (Files.isExecutable(p)) return Optional.of(p);
        }
        return Optional.empty();
    }

    /** Requires an executable, naming the Debian package that provides it. */
    public static Path require(String command, String debianPackage) {
        Optional<Path> p = which(command);
        if (p.isPresent()) return p.get();
        missing(command + " not found (install the Debian package '" + debianPackage + "')");
        throw new AssertionError("unreachable");
    }

    public static void requireRoot() {
        if (!"root".equals(System.getProperty("user.name"))) missing("this test needs root");
    }

    /** Fails in CI, skips elsewhere. */
    public static void missing(String what) {
        if (inCi()) throw new AssertionError("CI fixture cannot start: " + what);
        Assumptions.abort("skipped: " + what);
    }
}
