package io.deskgate.agent;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalLong;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;

/**
 * What a crash of the agent's JVM would leave running: each launched desktop's Xvnc and session
 * programs are recorded in {@code <runtimeDir>/desktop-<n>.pids} (one {@code <pid> <start time>} line
 * each, and {@code display <n>}), removed when the desktop is stopped. At start the agent stops every
 * recorded process that is still the same process (same pid and start time), with its descendants,
 * and removes the X lock and socket it held. Stateless and thread-safe for distinct desktops.
 */
final class LeftoverProcesses {
    static final String SUFFIX = ".pids";

    private LeftoverProcesses() {}

    static Path file(Path runtimeDir, int index) {
        return runtimeDir.resolve("desktop-" + (index + 1) + SUFFIX);
    }

    /** Records a desktop's processes (written atomically, replacing an earlier record). */
    static void record(Path file, int display, List<ProcessHandle> processes) throws IOException {
        StringBuilder text = new StringBuilder("display ").append(display).append('\n');
        for (ProcessHandle p : processes) {
            OptionalLong start = ProcessTrees.startTime(p.pid());
            if (start.isPresent()) text.append(p.pid()).append(' ').append(start.getAsLong()).append('\n');
        }
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        DesktopLauncher.createOwnerOnly(tmp);
        Files.writeString(tmp, text);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    static void forget(Path file) throws IOException {
        Files.deleteIfExists(file);
    }

    /** Stops what every record in {@code runtimeDir} names and is still alive; returns how many roots were stopped. */
    static int stopAll(Path runtimeDir) throws IOException {
        if (!Files.isDirectory(runtimeDir)) return 0;
        int stopped = 0;
        try (DirectoryStream<Path> records = Files.newDirectoryStream(runtimeDir, "desktop-*" + SUFFIX)) {
            for (Path record : records) {
                stopped += stop(Files.readAllLines(record));
                Files.delete(record);
            }
        }
        return stopped;
    }

    private static int stop(List<String> lines) {
        int display = -1;
        List<ProcessHandle> same = new ArrayList<>();
        for (String line : lines) {
            String[] f = line.trim().split(" ");
            if (f.length != 2) continue;
            try {
                if (f[0].equals("display")) {
                    display = Integer.parseInt(f[1]);
                    continue;
                }
                long pid = Long.parseLong(f[0]);
                long start = Long.parseLong(f[1]);
                if (ProcessTrees.startTime(pid).equals(OptionalLong.of(start))) ProcessHandle.of(pid).ifPresent(same::add);
            } catch (NumberFormatException e) {
                // A damaged line names nothing we may kill.
            }
        }
        List<Long> pids = same.stream().map(ProcessHandle::pid).toList();
        if (!same.isEmpty()) ProcessTrees.terminate(same);
        if (display >= 0) removeDisplayFiles(display, pids);
        return same.size();
    }

    /** Removes the X lock of {@code display} and its socket when the lock names one of the stopped processes. */
    private static void removeDisplayFiles(int display, List<Long> stopped) {
        Path tmp = Path.of("/tmp");
        OptionalLong owner = StaleDisplays.lockOwner(tmp, display);
        if (owner.isEmpty() || !stopped.contains(owner.getAsLong())) return; // no lock, or not ours
        try {
            StaleDisplays.remove(tmp, display);
        } catch (IOException e) {
            // Left for the next launch, which reclaims a lock naming a dead pid (StaleDisplays).
        }
    }
}
