package io.deskgate.gateway;

import io.deskgate.common.RateLimitedLog;
import io.deskgate.store.SpentTokenStore;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.slf4j.LoggerFactory;

/**
 * STREAM tokens spent in the store ({@link SpentTokenStore}), so that a token attaches one browser in the whole
 * fleet, whichever gateway it is presented to. Each spend is one insert on a virtual thread, never on an event
 * loop; its answer is waited for at most {@link #STORE_WAIT}, and at most {@link #MAX_IN_FLIGHT} wait at once:
 * past either, or when the insert fails, the token is refused with {@link SpentTokens.Use#UNAVAILABLE} (fail
 * closed: a token the store cannot record is never let through), with one rate-limited log line. Expired ids are
 * pruned every {@link #PURGE_INTERVAL} by one thread of its own. Thread-safe; {@link #close} stops the pruning.
 */
final class StoreSpentTokens implements SpentTokenLedger {
    /** The longest a browser's attach waits for the store: its pool waits 2 s for a connection, its insert 2 s. */
    static final Duration STORE_WAIT = Duration.ofSeconds(3);
    /** Spends waiting on the store at once; one more is refused at once (a hung store costs no unbounded threads). */
    static final int MAX_IN_FLIGHT = 256;
    static final Duration PURGE_INTERVAL = Duration.ofMinutes(1);

    private final SpentTokenStore store;
    private final Clock clock;
    private final Semaphore inFlight = new Semaphore(MAX_IN_FLIGHT);
    private final ExecutorService spenders = Executors.newVirtualThreadPerTaskExecutor();
    private final ScheduledExecutorService purger;
    private final RateLimitedLog failures = new RateLimitedLog(LoggerFactory.getLogger(StoreSpentTokens.class));

    StoreSpentTokens(SpentTokenStore store, Clock clock) {
        this.store = store;
        this.clock = clock;
        this.purger = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "gateway-spent-tokens-purge");
            t.setDaemon(true);
            return t;
        });
        purger.scheduleWithFixedDelay(this::purge, PURGE_INTERVAL.toMillis(), PURGE_INTERVAL.toMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    public CompletionStage<SpentTokens.Use> spend(String tokenId, Instant expiresAt, Instant now) {
        if (!inFlight.tryAcquire()) {
            failures.warn("store busy", "stream token refused: {} spends already wait for the store", MAX_IN_FLIGHT);
            return CompletableFuture.completedFuture(SpentTokens.Use.UNAVAILABLE);
        }
        CompletableFuture<SpentTokens.Use> answer = new CompletableFuture<>();
        try {
            spenders.execute(() -> {
                try {
                    answer.complete(store.spend(tokenId, expiresAt) ? SpentTokens.Use.FIRST : SpentTokens.Use.REUSED);
                } catch (RuntimeException e) {
                    failures.warn("store failed", "stream token refused: the store did not record it: {}", e.getMessage());
                    answer.complete(SpentTokens.Use.UNAVAILABLE);
                } finally {
                    inFlight.release();
                }
            });
        } catch (RuntimeException e) { // rejected: closing
            inFlight.release();
            answer.complete(SpentTokens.Use.UNAVAILABLE);
        }
        // A store that hangs past the wait: the browser is refused now; the insert, if it lands later, only
        // spends a token that was never used (fail closed).
        return answer.completeOnTimeout(SpentTokens.Use.UNAVAILABLE, STORE_WAIT.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void purge() {
        try {
            store.purgeExpired(clock.instant());
        } catch (RuntimeException e) {
            failures.info("purge failed", "cannot prune expired stream tokens now: {}", e.getMessage());
        }
    }

    @Override
    public void close() {
        purger.shutdownNow();
        spenders.shutdownNow();
    }
}
