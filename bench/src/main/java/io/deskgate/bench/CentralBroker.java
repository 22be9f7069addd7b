package io.deskgate.bench;

import io.deskgate.common.Secrets;
import io.deskgate.control.BrokerGrpc;
import io.deskgate.control.ControlAuth;
import io.deskgate.control.Desktop;
import io.deskgate.control.DesktopState;
import io.deskgate.control.FindDesktopReply;
import io.deskgate.control.FindDesktopRequest;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The reference of {@code deskgate bench broker}: a central broker, one process holding every desktop in
 * one map behind one lock, serving the same gRPC {@code Broker.FindDesktop} (same request and reply, same
 * control credential, and FindDesktop on the transport's event loop as {@code SessionBroker.serve} runs it). A request takes the
 * user's own desktop if they hold one, else the free desktop assigned least recently; the map is the truth,
 * so there is no compare-and-set and no call to an agent (it is the ceiling of a central design on this
 * transport, not a full one: the agent's preparation of the desktop is not paid). Thread-safe; the caller
 * must {@link #close()} it.
 */
final class CentralBroker extends BrokerGrpc.BrokerImplBase implements AutoCloseable {
    private final ReentrantLock lock = new ReentrantLock();
    /** Guarded by {@link #lock}. */
    private final Map<String, Held> desktops = new HashMap<>();
    /** Guarded by {@link #lock}: free desktops, least recently assigned first. */
    private final ArrayDeque<Held> free = new ArrayDeque<>();
    /** Guarded by {@link #lock}: (tenant, user) to the desktop it holds. */
    private final Map<Owner, Held> owners = new HashMap<>();
    private final Server server;

    private static final class Held {
        final String id;
        DesktopState state = DesktopState.AVAILABLE;
        long version = 1;
        String sessionId = "";
        int tenant;
        String user = "";

        Held(String id) {
            this.id = id;
        }
    }

    private record Owner(int tenant, String user) {}

    /** Holds {@code desktopIds}, all AVAILABLE, and serves on 127.0.0.1, any free port. */
    CentralBroker(List<String> desktopIds, byte[] controlSecret) throws IOException {
        for (String id : desktopIds) {
            Held h = new Held(id);
            if (desktops.putIfAbsent(id, h) != null) throw new IllegalArgumentException("desktop listed twice: " + id);
            free.add(h);
        }
        server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).addService(this)
                .intercept(new ControlAuth(controlSecret).serverInterceptor())
                .directExecutor().build().start(); // the handler never blocks (a lock held briefly)
    }

    String target() {
        return "127.0.0.1:" + server.getPort();
    }

    @Override
    public void findDesktop(FindDesktopRequest r, StreamObserver<FindDesktopReply> reply) {
        if (r.getSessionId().isEmpty() || r.getUser().isEmpty() || r.getTenant() < 1 || r.getPool().isEmpty()) {
            reply.onError(Status.INVALID_ARGUMENT.withDescription("session_id, user, tenant and pool are required")
                    .asRuntimeException());
            return;
        }
        Desktop desktop;
        boolean reconnect;
        lock.lock();
        try {
            Owner owner = new Owner(r.getTenant(), r.getUser());
            Held h = owners.get(owner);
            reconnect = h != null;
            if (h == null) {
                h = free.poll();
                if (h == null) {
                    reply.onError(Status.RESOURCE_EXHAUSTED.withDescription("NO_DESKTOP: every desktop of the central"
                            + " broker is assigned").asRuntimeException());
                    return;
                }
                h.state = DesktopState.ASSIGNED;
                h.version++;
                h.sessionId = r.getSessionId();
                h.tenant = r.getTenant();
                h.user = r.getUser();
                owners.put(owner, h);
            }
            desktop = Desktop.newBuilder().setDesktopId(h.id).setHost("127.0.0.1").setState(h.state)
                    .setSessionId(h.sessionId).setTenant(h.tenant).setUser(h.user).setVersion(h.version).build();
        } finally {
            lock.unlock();
        }
        // The one-time password as SimulatedAgent makes it, outside the lock.
        reply.onNext(FindDesktopReply.newBuilder().setDesktop(desktop).setReconnect(reconnect)
                .setVncPassword(HexFormat.of().formatHex(Secrets.randomBytes(8))).build());
        reply.onCompleted();
    }

    /** The session holding {@code desktopId} now, empty if none (the central map's own truth). */
    String sessionOf(String desktopId) {
        lock.lock();
        try {
            Held h = desktops.get(desktopId);
            return h == null ? "" : h.sessionId;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void close() {
        server.shutdownNow();
        try {
            server.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
