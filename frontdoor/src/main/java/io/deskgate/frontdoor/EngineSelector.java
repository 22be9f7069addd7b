package io.deskgate.frontdoor;

import io.deskgate.frontdoor.Frontdoor.EngineEndpoint;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * Picks the engine with the fewest connections from the engines' tallies (seed 000). Pure: the caller
 * gathers the tallies.
 */
final class EngineSelector {
    /** One engine's tally: empty when the engine did not answer. */
    record Tally(EngineEndpoint engine, OptionalInt connections) {}

    private EngineSelector() {}

    /** The reachable engine with the least connections; the earliest listed wins a tie. */
    static Optional<EngineEndpoint> leastConnections(List<Tally> tallies) {
        EngineEndpoint best = null;
        int bestConnections = Integer.MAX_VALUE;
        for (Tally t : tallies) {
            if (t.connections().isPresent() && t.connections().getAsInt() < bestConnections) {
                best = t.engine();
                bestConnections = t.connections().getAsInt();
            }
        }
        return Optional.ofNullable(best);
    }
}
