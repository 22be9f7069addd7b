package io.deskgate.engine;

import io.deskgate.common.DeskgateException;
import io.deskgate.common.Status;
import io.deskgate.control.ControlAuth;
import io.deskgate.control.EngineGrpc;
import io.deskgate.control.LaunchReply;
import io.deskgate.control.LaunchRequest;
import io.deskgate.control.SocketTally;
import io.deskgate.control.StopReply;
import io.deskgate.control.StopRequest;
import io.deskgate.control.TallyReply;
import io.deskgate.control.TallyRequest;
import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The generic client engine of one execution host (seed 000): serves the {@code Engine} gRPC service
 * (control/src/main/proto/control.proto), launches {@link TranscodingInstance}s, manages every instance of
 * one unique socket (session id) together, and keeps the connection tally the frontdoor balances on.
 *
 * <p>Time is an input: the engine and its instances read only the {@link NanoClock} given to
 * {@link #start(EngineConfig, NanoClock)}, and one scheduler thread runs the timers of every instance.
 *
 * <p>Thread-safe: gRPC calls run on virtual threads; instances close themselves from their own threads.
 * The engine never holds a lock while it closes an instance.
 */
public final class Engine implements AutoCloseable {
    /** How long Launch waits for the desktop's ServerInit unless the caller's deadline is sooner. */
    public static final Duration LAUNCH_TIMEOUT = Duration.ofSeconds(10);
    private static final Logger log = LoggerFactory.getLogger(Engine.class);

    private final EngineConfig config;
    private final InstanceConfig instanceConfig;
    private final NanoClock clock;
    /** Runs the timers of every instance; a tick never blocks it (see {@link TranscodingInstance}). */
    private final ScheduledExecutorService timers =
            Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().name("engine-timers").daemon().factory());
    private final Map<UUID, List<TranscodingInstance>> bySession = new ConcurrentHashMap<>();
    /** Capacity held by live instances and by launches under way; an instance frees its slot when it closes. */
    private final AtomicInteger slots = new AtomicInteger();
    private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
    private final Server server;

    private final EngineMetrics metrics;

    private Engine(EngineConfig config, NanoClock clock, ControlAuth auth, EngineMetrics metrics) throws IOException {
        this.config = config;
        this.metrics = metrics;
        this.clock = clock;
        this.instanceConfig = InstanceConfig.of(config);
        try {
            this.server = NettyServerBuilder.forAddress(new InetSocketAddress(config.bindHost(), config.grpcPort()), auth.serverCredentials())
                    .executor(executor)
                    .addService(new Service())
                    .intercept(auth.serverInterceptor())
                    .build()
                    .start();
        } catch (IOException | RuntimeException e) {
            timers.shutdownNow();
            executor.shutdownNow();
            throw e;
        }
        log.info("engine {} serving gRPC on {}:{}", config.engineId(), config.bindHost(), server.getPort());
    }

    /**
     * Starts the gRPC server; every call must carry the control credential.
     *
     * @throws IllegalArgumentException when the config has no control secret: the engine never serves
     *                                  unauthenticated, since a Launch connects to a desktop with a password
     * @throws io.deskgate.common.DeskgateException when the encoder's {@code jpeg-library} is {@code turbo} and
     *                               libjpeg-turbo cannot be loaded
     */
    public static Engine start(EngineConfig config) throws IOException {
        return start(config, NanoClock.system());
    }

    /** {@link #start(EngineConfig)} on {@code clock}, the only time source of the engine's instances. */
    public static Engine start(EngineConfig config, NanoClock clock) throws IOException {
        return start(config, clock, new ControlAuth(config.controlSecret()), EngineMetrics.unread());
    }

    /**
     * {@link #start(EngineConfig, NanoClock)} behind {@code auth} rather than the config's control secret: mutual
     * TLS ({@link ControlAuth#mutualTls}) when the engine is called from other hosts.
     */
    public static Engine start(EngineConfig config, NanoClock clock, ControlAuth auth) throws IOException {
        return start(config, clock, auth, EngineMetrics.unread());
    }

    /** {@link #start(EngineConfig, NanoClock)}, counting into {@code metrics}. */
    public static Engine start(EngineConfig config, NanoClock clock, EngineMetrics metrics) throws IOException {
        return start(config, clock, new ControlAuth(config.controlSecret()), metrics);
    }

    /** Behind {@code auth}, counting into {@code metrics}. */
    public static Engine start(EngineConfig config, NanoClock clock, ControlAuth auth, EngineMetrics metrics) throws IOException {
        try {
            io.deskgate.encode.TileEncoder.checkLibrary(config.encoder());
        } catch (IllegalStateException e) { // a setting the machine cannot meet: one line from the launcher
            throw new io.deskgate.common.DeskgateException(io.deskgate.common.Status.INTERNAL_ERROR, e.getMessage());
        }
        Engine engine = new Engine(config, java.util.Objects.requireNonNull(clock, "clock"), auth,
                java.util.Objects.requireNonNull(metrics, "metrics"));
        metrics.watch(engine);
        return engine;
    }

    public EngineConfig config() { return config; }

    public int grpcPort() { return server.getPort(); }

    /** Live transcoding instances: the load-balancing information the frontdoor balances on. */
    public int connections() {
        int n = 0;
        for (List<TranscodingInstance> instances : bySession.values()) n += instances.size();
        return n;
    }

    /** The tally per unique socket: session id to its live instances (sockets without any are left out). */
    public Map<UUID, Integer> socketTallies() {
        Map<UUID, Integer> out = new java.util.TreeMap<>();
        bySession.forEach((id, instances) -> {
            if (!instances.isEmpty()) out.put(id, instances.size());
        });
        return out;
    }

    /** The live instances of one unique socket. */
    public List<TranscodingInstance> instances(UUID sessionId) {
        return List.copyOf(bySession.getOrDefault(sessionId, List.of()));
    }

    /**
     * Launches a transcoding instance and waits until it streams (the desktop sent ServerInit).
     *
     * @throws DeskgateException {@link Status#UNAUTHORIZED} when the desktop rejected the password,
     *     {@link Status#UPSTREAM_UNAVAILABLE} when it cannot be reached or failed, {@link Status#NO_DESKTOP_AVAILABLE}
     *     at capacity, {@link Status#INTERNAL_ERROR} when the instance could not be started (the engine is closing),
     *     {@link Status#ALREADY_EXISTS} when the spec names an instance id the session already runs
     * @throws TimeoutException when ServerInit did not arrive within {@code timeout} (the instance is closed)
     */
    public TranscodingInstance launch(LaunchSpec spec, Duration timeout) throws TimeoutException, InterruptedException {
        try {
            TranscodingInstance instance = launchCounted(spec, timeout);
            metrics.launched("ok");
            return instance;
        } catch (DeskgateException e) {
            metrics.launched(switch (e.status()) {
                case NO_DESKTOP_AVAILABLE -> "no_capacity";
                case UPSTREAM_UNAVAILABLE -> "unreachable";
                case UNAUTHORIZED -> "unauthorized";
                default -> "internal";
            });
            throw e;
        } catch (TimeoutException e) {
            metrics.launched("timeout");
            throw e;
        } catch (InterruptedException e) {
            metrics.launched("interrupted");
            throw e;
        } catch (RuntimeException e) {
            metrics.launched("internal");
            throw e;
        }
    }

    private TranscodingInstance launchCounted(LaunchSpec spec, Duration timeout) throws TimeoutException, InterruptedException {
        if (spec.instanceId().isPresent()) {
            String id = spec.instanceId().get().toString();
            // Two instances under one stream id would push each other off the gateway (each epoch retires the other's).
            if (instances(spec.sessionId()).stream().anyMatch(i -> i.instanceId().equals(id))) {
                throw new DeskgateException(Status.ALREADY_EXISTS, "session " + spec.sessionId() + " already has instance " + id);
            }
        }
        if (slots.incrementAndGet() > config.maxInstances()) {
            slots.decrementAndGet();
            throw new DeskgateException(Status.NO_DESKTOP_AVAILABLE, "engine " + config.engineId() + " runs its maximum of "
                    + config.maxInstances() + " instances");
        }
        TranscodingInstance instance;
        try {
            instance = TranscodingInstance.launch(spec, instanceConfig, clock, timers, timeout, this::closed, metrics);
        } catch (IOException e) {
            slots.decrementAndGet();
            throw new DeskgateException(Status.UPSTREAM_UNAVAILABLE, "desktop " + spec.desktopHost() + ":" + spec.desktopPort()
                    + " unreachable: " + e.getMessage(), e);
        } catch (RuntimeException e) { // e.g. the scheduler refusing while the engine closes: the slot is free again
            slots.decrementAndGet();
            log.warn("engine {} could not start an instance for session {}: {}", config.engineId(), spec.sessionId(), e.toString());
            throw new DeskgateException(Status.INTERNAL_ERROR, "engine " + config.engineId() + " could not start an instance: " + e, e);
        }
        bySession.compute(spec.sessionId(), (k, list) -> {
            List<TranscodingInstance> l = list == null ? new CopyOnWriteArrayList<>() : list;
            l.add(instance);
            return l;
        });
        if (!instance.isOpen()) unregister(instance); // it may have closed before it was registered
        try {
            TranscodingInstance.DesktopSize size = instance.awaitReady(timeout);
            log.info("launched transcoding instance {} for session {}: desktop {}:{} {}x{}", instance.instanceId(), spec.sessionId(),
                    spec.desktopHost(), spec.desktopPort(), size.width(), size.height());
            return instance;
        } catch (TimeoutException | InterruptedException | RuntimeException e) {
            instance.close();
            throw e;
        }
    }

    /** Closes every instance of one unique socket; returns how many there were. */
    public int stop(UUID sessionId) {
        List<TranscodingInstance> instances = instances(sessionId);
        for (TranscodingInstance i : instances) i.close(); // each unregisters itself
        return instances.size();
    }

    /**
     * Closes one instance (one connection) of a unique socket; returns how many were closed (0 or 1). The
     * socket's other instances keep running; when none is left, the socket is released on this engine.
     */
    public int stop(UUID sessionId, String instanceId) {
        int stopped = 0;
        for (TranscodingInstance i : instances(sessionId)) {
            if (i.instanceId().equals(instanceId)) {
                i.close(); // it unregisters itself
                stopped++;
            }
        }
        return stopped;
    }

    /** A UUID in its one canonical spelling (the instance id names the instance's stream at the gateway). */
    private static UUID canonicalUuid(String text) {
        UUID id = UUID.fromString(text);
        if (!id.toString().equals(text)) throw new IllegalArgumentException("instance id is not a canonical UUID");
        return id;
    }

    /** Capacity held by live instances and launches under way. */
    int slotsHeld() { return slots.get(); }

    /** Called once per instance, on the thread that closed it. */
    private void closed(TranscodingInstance instance) {
        unregister(instance);
        slots.decrementAndGet();
    }

    private void unregister(TranscodingInstance instance) {
        bySession.computeIfPresent(instance.sessionId(), (k, list) -> {
            list.remove(instance);
            return list.isEmpty() ? null : list;
        });
    }

    @Override public void close() {
        server.shutdownNow();
        for (UUID sessionId : List.copyOf(bySession.keySet())) stop(sessionId);
        try {
            server.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        executor.shutdownNow();
        timers.shutdownNow();
        log.info("engine {} closed", config.engineId());
    }

    // ------------------------------------------------------------ gRPC

    private final class Service extends EngineGrpc.EngineImplBase {
        @Override public void launch(LaunchRequest request, StreamObserver<LaunchReply> reply) {
            LaunchSpec spec;
            try {
                spec = new LaunchSpec(UUID.fromString(request.getSessionId()), request.getTenant(), request.getDesktopHost(),
                        request.getDesktopPort(), request.getVncPassword(),
                        new InetSocketAddress(request.getGatewayUdpHost(), request.getGatewayUdpPort()),
                        request.getStreamKey().toByteArray(),
                        request.getInstanceId().isEmpty() ? java.util.Optional.empty()
                                : java.util.Optional.of(canonicalUuid(request.getInstanceId())));
            } catch (IllegalArgumentException e) {
                metrics.launched("invalid");
                reply.onError(io.grpc.Status.INVALID_ARGUMENT.withDescription("bad launch request: " + e.getMessage()).asRuntimeException());
                return;
            }
            Duration timeout = LAUNCH_TIMEOUT;
            Deadline deadline = Context.current().getDeadline();
            if (deadline != null) timeout = Duration.ofNanos(Math.max(1, Math.min(timeout.toNanos(), deadline.timeRemaining(TimeUnit.NANOSECONDS))));
            try {
                TranscodingInstance instance = Engine.this.launch(spec, timeout);
                TranscodingInstance.DesktopSize size = instance.awaitReady(Duration.ZERO);
                reply.onNext(LaunchReply.newBuilder().setInstanceId(instance.instanceId()).setWidth(size.width()).setHeight(size.height()).build());
                reply.onCompleted();
            } catch (DeskgateException e) {
                io.grpc.Status status = switch (e.status()) {
                    case UNAUTHORIZED -> io.grpc.Status.UNAUTHENTICATED;
                    case NO_DESKTOP_AVAILABLE -> io.grpc.Status.RESOURCE_EXHAUSTED;
                    case ALREADY_EXISTS -> io.grpc.Status.ALREADY_EXISTS;
                    default -> io.grpc.Status.UNAVAILABLE;
                };
                log.debug("launch for session {} failed: {} {}", spec.sessionId(), e.status(), e.getMessage()); // the instance logged its line
                reply.onError(status.withDescription(e.getMessage()).asRuntimeException());
            } catch (TimeoutException e) {
                reply.onError(io.grpc.Status.DEADLINE_EXCEEDED.withDescription("desktop sent no ServerInit within " + timeout.toMillis() + " ms")
                        .asRuntimeException());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                reply.onError(io.grpc.Status.CANCELLED.withDescription("engine shutting down").asRuntimeException());
            }
        }

        @Override public void stop(StopRequest request, StreamObserver<StopReply> reply) {
            UUID sessionId;
            try {
                sessionId = UUID.fromString(request.getSessionId());
            } catch (IllegalArgumentException e) {
                reply.onError(io.grpc.Status.INVALID_ARGUMENT.withDescription("session id is not a UUID").asRuntimeException());
                return;
            }
            int stopped = request.getInstanceId().isEmpty() ? Engine.this.stop(sessionId)
                    : Engine.this.stop(sessionId, request.getInstanceId());
            reply.onNext(StopReply.newBuilder().setStoppedInstances(stopped)
                    .setRemainingInstances(instances(sessionId).size()).build());
            reply.onCompleted();
        }

        @Override public void tally(TallyRequest request, StreamObserver<TallyReply> reply) {
            TallyReply.Builder tally = TallyReply.newBuilder().setConnections(connections());
            socketTallies().forEach((id, n) -> tally.addSockets(SocketTally.newBuilder().setSessionId(id.toString()).setConnections(n)));
            reply.onNext(tally.build());
            reply.onCompleted();
        }
    }
}
