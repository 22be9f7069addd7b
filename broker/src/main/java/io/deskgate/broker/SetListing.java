package io.deskgate.broker;

import com.google.common.util.concurrent.ListenableFuture;
import io.deskgate.control.ConcentratorGrpc;
import io.deskgate.control.Desktop;
import io.deskgate.control.DesktopStatus;
import io.deskgate.control.FindAvailableReply;
import io.deskgate.control.FindAvailableRequest;
import io.deskgate.control.ListDesktopsReply;
import io.deskgate.control.ListDesktopsRequest;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BiConsumer;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * The sharded broker's ListDesktops ({@link SessionBroker#listDesktops}): what one concentrator set holds for the
 * asker, asked of the set's members in parallel on the caller's thread (a listing is never coalesced: it asks with
 * {@code details} or {@code held}). Every set holds every desktop, so one set that answers is enough: the first
 * (in name order) with a member not marked failing; a set none of whose members answered is passed over for the
 * next. Each entry is whole (host, port, size, session id, labels), as the direct broker lists it. Thread-safe.
 */
final class SetListing {
    /** The most desktops one listing holds. */
    static final int LIST_LIMIT = 64;
    /** The most desktops a listing of every held desktop holds (the concentrators' cap). */
    static final int HELD_LIST_LIMIT = 4096;

    private final Duration requestTimeout;
    private final BiFunction<Long, Map<String, String>, List<ConcentratorSet>> sets;
    private final Function<String, ManagedChannel> channel;
    private final BiConsumer<String, Status> markFailing;

    /**
     * @param sets        the sets as they are at a time, filling in the members' targets
     * @param channel     the channel to a {@code host:port} target
     * @param markFailing called with a member whose call failed
     */
    SetListing(Duration requestTimeout, BiFunction<Long, Map<String, String>, List<ConcentratorSet>> sets,
               Function<String, ManagedChannel> channel, BiConsumer<String, Status> markFailing) {
        this.requestTimeout = requestTimeout;
        this.sets = sets;
        this.channel = channel;
        this.markFailing = markFailing;
    }

    /**
     * The user's own desktops (in any pool) and the free ones of the request's scope (without one, of its pool
     * name), or with {@code held} every desktop held in the tenant.
     *
     * @throws io.grpc.StatusRuntimeException INVALID_ARGUMENT without a tenant, or with a scope naming an invalid name
     */
    ListDesktopsReply list(ListDesktopsRequest request) {
        if (request.getTenant() < 1) {
            throw Status.INVALID_ARGUMENT.withDescription("tenant is required").asRuntimeException();
        }
        String badScope = request.hasScope() ? SessionBroker.invalidScope(request.getScope()) : "";
        if (!badScope.isEmpty()) throw Status.INVALID_ARGUMENT.withDescription(badScope).asRuntimeException();
        FindAvailableRequest.Builder find = FindAvailableRequest.newBuilder().setTenant(request.getTenant())
                .setPool(listingKey(request)).setUser(request.getUser())
                .setLimit(LIST_LIMIT).setDetails(true).setHeld(request.getHeld());
        if (request.hasScope()) find.setScope(request.getScope());
        return ListDesktopsReply.newBuilder().addAllDesktops(list(find.build())).build();
    }

    /**
     * The pool key a listing's scope is kept under at the concentrators: one per distinct scope (the union of a
     * user's pools), so listings of users with other pools do not rebuild each other's free lists.
     */
    private static String listingKey(ListDesktopsRequest request) {
        if (!request.hasScope()) return request.getPool().isEmpty() ? "default" : request.getPool();
        return "listing-" + Integer.toHexString(Set.copyOf(request.getScope().getAgentsList()).hashCode() * 31
                + Set.copyOf(request.getScope().getLabelsList()).hashCode());
    }

    /** The listing's FindAvailable {@code find} asked of one set: the user's own first, at most the list limit. */
    private List<Desktop> list(FindAvailableRequest find) {
        int tenant = find.getTenant();
        String user = find.getUser();
        int limit = find.getHeld() ? HELD_LIST_LIMIT : LIST_LIMIT;
        long start = System.nanoTime();
        long deadline = start + requestTimeout.toNanos();
        Map<String, String> targets = new HashMap<>();
        List<ConcentratorSet> ordered = new ArrayList<>(sets.apply(start, targets));
        ordered.sort(Comparator.comparing((ConcentratorSet c) -> c.failing().size() == c.members().size()));
        for (ConcentratorSet set : ordered) {
            List<ListenableFuture<FindAvailableReply>> calls = new ArrayList<>();
            for (String id : set.members()) {
                long left = Math.max(1, deadline - System.nanoTime());
                calls.add(ConcentratorGrpc.newFutureStub(channel.apply(targets.get(id))).withDeadlineAfter(left, TimeUnit.NANOSECONDS)
                        .findAvailable(find));
            }
            Map<String, Desktop> merged = new LinkedHashMap<>();
            boolean answered = false;
            for (int i = 0; i < calls.size(); i++) {
                try {
                    FindAvailableReply r = calls.get(i).get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                    answered = true;
                    for (DesktopStatus d : r.getDesktopsList()) {
                        merged.putIfAbsent(d.getDesktopId(), Desktop.newBuilder().setDesktopId(d.getDesktopId())
                                .setState(d.getState()).setTenant(d.getTenant()).setUser(d.getUser()).setVersion(d.getVersion())
                                .setSessionId(d.getSessionId()).setHost(d.getHost()).setPort(d.getPort())
                                .setWidth(d.getWidth()).setHeight(d.getHeight()).addAllLabels(d.getLabelsList())
                                .build());
                    }
                } catch (ExecutionException | TimeoutException e) {
                    calls.get(i).cancel(true);
                    markFailing.accept(set.members().get(i), Status.fromThrowable(e.getCause() == null ? e : e.getCause()));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw Status.CANCELLED.withDescription("interrupted").asRuntimeException();
                }
            }
            if (answered) {
                List<Desktop> out = new ArrayList<>(merged.values());
                out.sort(Comparator.comparing((Desktop d) -> !(d.getTenant() == tenant && d.getUser().equals(user) && !user.isEmpty())));
                return out.subList(0, Math.min(limit, out.size()));
            }
        }
        return List.of();
    }
}
