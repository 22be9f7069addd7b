package io.deskgate.broker;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * One user's requests through one broker, in turn (the sharded broker's FindDesktop, as the direct broker serves
 * one user's requests one at a time): the per-user limit counts what a user holds, so two of their requests must not
 * both see the count below it, and a coalesced batch must not carry one user twice. A request takes its user's
 * turn ({@link #enter}) or waits behind the one holding it; the holder hands the turn on ({@link #leave}). No thread
 * waits: the caller starts whatever is handed the turn. Thread-safe.
 *
 * @param <T> a waiting request
 */
final class UserTurns<T> {
    private record Key(int tenant, String user) {}

    /** By user holding the turn: the requests waiting behind it, oldest first. */
    private final Map<Key, ArrayDeque<T>> waiting = new HashMap<>();

    /** Whether {@code request} of {@code (tenant, user)} holds the turn now; false: it waits and is handed it later. */
    synchronized boolean enter(int tenant, String user, T request) {
        Objects.requireNonNull(request, "request");
        ArrayDeque<T> behind = waiting.get(new Key(tenant, user));
        if (behind == null) {
            waiting.put(new Key(tenant, user), new ArrayDeque<>());
            return true;
        }
        behind.add(request);
        return false;
    }

    /** The turn's holder of {@code (tenant, user)} ended: the request that holds it now, if one waited. */
    synchronized Optional<T> leave(int tenant, String user) {
        Key k = new Key(tenant, user);
        ArrayDeque<T> behind = waiting.get(k);
        if (behind == null) return Optional.empty();
        T next = behind.poll();
        if (next == null) waiting.remove(k);
        return Optional.ofNullable(next);
    }

    /** Every waiting request, removed (the broker closes); the holders keep their turns until they leave. */
    synchronized List<T> drain() {
        List<T> out = new ArrayList<>();
        for (ArrayDeque<T> behind : waiting.values()) {
            out.addAll(behind);
            behind.clear();
        }
        return out;
    }

    /** Users holding a turn now. */
    synchronized int users() {
        return waiting.size();
    }
}
