package io.deskgate.gateway;

import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Where a gateway spends its STREAM tokens: the store, shared by every gateway of the fleet
 * ({@link StoreSpentTokens}), or for a gateway on its own this gateway's memory ({@link SpentTokens}).
 * Asynchronous, so that no event loop waits on the store. Implementations are thread-safe.
 */
interface SpentTokenLedger extends AutoCloseable {
    /**
     * Marks the verified token with id {@code tokenId}, expiring at {@code expiresAt}, as used. The stage
     * completes (on any thread, never exceptionally) with {@link SpentTokens.Use#FIRST} only for the token's
     * first use; any other answer refuses it.
     */
    CompletionStage<SpentTokens.Use> spend(String tokenId, Instant expiresAt, Instant now);

    @Override
    default void close() {}

    /** This gateway's memory only: single use per gateway. */
    static SpentTokenLedger inMemory(SpentTokens spent) {
        return (tokenId, expiresAt, now) -> CompletableFuture.completedFuture(spent.spend(tokenId, expiresAt, now));
    }
}
