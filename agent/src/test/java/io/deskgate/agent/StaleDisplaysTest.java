package io.deskgate.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link StaleDisplays} over a stand-in for /tmp: what a dead, a live and a foreign X server leave behind. */
class StaleDisplaysTest {
    @TempDir Path tmp;

    @BeforeEach
    void socketDir() throws IOException {
        Files.createDirectories(tmp.resolve(".X11-unix"));
    }

    @Test
    void shouldUseADisplayWithNoLockAndNoSocket() {
        assertThat(StaleDisplays.freeOrReclaimed(tmp, 30)).isTrue();
    }

    @Test
    void shouldReclaimTheLockAndSocketOfADeadXServer() throws Exception {
        Process p = new ProcessBuilder("true").start();
        p.waitFor();
        long deadPid = p.pid(); // exited and reaped: no process has this pid now (reuse within the test is unlikely)
        leave(31, "      " + deadPid + "\n"); // the X server's own format: the pid right-aligned in 10 characters
        assertThat(StaleDisplays.freeOrReclaimed(tmp, 31)).isTrue();
        assertThat(tmp.resolve(".X31-lock")).doesNotExist();
        assertThat(tmp.resolve(".X11-unix/X31")).doesNotExist();
    }

    @Test
    void shouldLeaveTheDisplayOfALiveXServerAlone() throws Exception {
        leave(32, "      " + ProcessHandle.current().pid() + "\n");
        assertThat(StaleDisplays.freeOrReclaimed(tmp, 32)).isFalse();
        assertThat(tmp.resolve(".X32-lock")).exists();
        assertThat(tmp.resolve(".X11-unix/X32")).exists();
    }

    @Test
    void shouldLeaveALockThatIsNotAPidOrASocketWithoutALockAlone() throws Exception {
        leave(33, "not a pid\n");
        assertThat(StaleDisplays.freeOrReclaimed(tmp, 33)).isFalse();
        assertThat(tmp.resolve(".X33-lock")).exists();
        leave(34, "0\n");
        assertThat(StaleDisplays.freeOrReclaimed(tmp, 34)).isFalse();
        Files.writeString(tmp.resolve(".X34-lock"), "1".repeat(100));
        assertThat(StaleDisplays.freeOrReclaimed(tmp, 34)).isFalse();
        Files.createFile(tmp.resolve(".X11-unix/X35"));
        assertThat(StaleDisplays.freeOrReclaimed(tmp, 35)).isFalse();
        assertThat(tmp.resolve(".X11-unix/X35")).exists();
    }

    @Test
    void shouldNotReadALockThatIsALinkOrAFifo() throws Exception {
        Path target = tmp.resolve("target");
        Files.writeString(target, "999999999\n");
        Files.createSymbolicLink(tmp.resolve(".X36-lock"), target);
        assertThat(StaleDisplays.freeOrReclaimed(tmp, 36)).isFalse();
        assertThat(target).exists();
        Process mkfifo = new ProcessBuilder("mkfifo", tmp.resolve(".X37-lock").toString()).start();
        assertThat(mkfifo.waitFor()).isZero();
        assertThat(StaleDisplays.freeOrReclaimed(tmp, 37)).isFalse(); // returns at once: a FIFO is never opened
    }

    private void leave(int display, String lockText) throws IOException {
        Files.writeString(tmp.resolve(".X" + display + "-lock"), lockText);
        Files.deleteIfExists(tmp.resolve(".X11-unix/X" + display));
        Files.createFile(tmp.resolve(".X11-unix/X" + display));
    }
}
