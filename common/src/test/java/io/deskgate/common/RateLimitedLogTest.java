package io.deskgate.common;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

class RateLimitedLogTest {
    static final long SECOND = 1_000_000_000L;
    final Logger logger = (Logger) LoggerFactory.getLogger("rate-limited-log-test");
    final ListAppender<ILoggingEvent> lines = new ListAppender<>();
    final AtomicLong now = new AtomicLong(42 * SECOND);
    final RateLimitedLog log = new RateLimitedLog(logger, 3, Duration.ofSeconds(10), now::get);

    @BeforeEach
    void attach() {
        lines.start();
        logger.addAppender(lines);
        logger.setLevel(Level.INFO);
    }

    @AfterEach
    void detach() {
        logger.detachAppender(lines);
    }

    @Test
    void shouldLogAtMostNLinesPerWindowPerReasonAndCountTheRest() {
        for (int i = 0; i < 10; i++) log.warn("bad token", "browser {} refused", i);
        for (int i = 0; i < 2; i++) log.info("hung up", "browser {} hung up", i);
        assertThat(lines.list).extracting(ILoggingEvent::getFormattedMessage).containsExactly(
                "browser 0 refused", "browser 1 refused", "browser 2 refused", "browser 0 hung up", "browser 1 hung up");
        assertThat(log.suppressed()).isEqualTo(7);

        now.addAndGet(10 * SECOND);
        assertThat(log.warn("bad token", "browser {} refused", 10)).isTrue();
        assertThat(lines.list.getLast().getFormattedMessage()).isEqualTo("browser 10 refused (7 similar lines suppressed)");
        assertThat(lines.list.getLast().getLevel()).isEqualTo(Level.WARN);
        assertThat(log.warn("bad token", "browser {} refused", 11)).isTrue();
        assertThat(lines.list.getLast().getFormattedMessage()).as("count reported once").isEqualTo("browser 11 refused");
    }

    @Test
    void shouldNeverLogAStackTrace() {
        log.warn("hung up", "connection from {} failed: {}", "127.0.0.1:5", new IOException("Connection reset"));
        assertThat(lines.list).singleElement().satisfies(e -> {
            assertThat(e.getThrowableProxy()).isNull();
            assertThat(e.getFormattedMessage()).isEqualTo("connection from 127.0.0.1:5 failed: java.io.IOException: Connection reset");
        });
    }

    @Test
    void shouldShareOneBudgetPastTheReasonLimit() {
        for (int i = 0; i < RateLimitedLog.MAX_REASONS + 50; i++) log.warn("reason " + i, "line {}", i);
        assertThat(lines.list).hasSize(RateLimitedLog.MAX_REASONS + 3);
    }
}
