package io.deskgate.engine;

import io.deskgate.common.DeskgateException;
import io.deskgate.common.ProtocolException;
import io.deskgate.common.RateLimitedLog;
import io.deskgate.common.Status;
import io.deskgate.encode.EncoderConfig;
import io.deskgate.rfb.ExtendedDesktopSize;
import io.deskgate.rfb.RfbClient;
import io.deskgate.rfb.RfbCursor;
import io.deskgate.rfb.RfbEncodings;
import io.deskgate.rfb.RfbListener;
import io.deskgate.stream.StreamMessage;
import io.deskgate.stream.StreamSession;
import io.deskgate.stream.StreamSessionConfig;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.PortUnreachableException;
import java.net.Socket;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One transcoding instance (seed 000): speaks RFB to one desktop over TCP and streams it to a gateway
 * over UDP. Its {@link #instanceId()} is its unique reference identifier.
 *
 * <p>Threads and ownership. Two virtual threads feed the instance: the <em>desktop reader</em> (blocks
 * on the RFB socket) and the <em>datagram receiver</em> (blocks on the UDP channel); the engine's one
 * scheduler runs its timers every {@value #TICK_MS} ms (stream timers, viewer graces, flow-control safety
 * net). Time comes only from the injected {@link NanoClock}. The {@link RfbClient}, its
 * {@link io.deskgate.rfb.Framebuffer}, the {@link InstanceCore} and the {@link StreamSession} are
 * single-threaded cores and are touched only while holding {@code lock}; each thread takes it for one
 * event (a chunk of RFB bytes, a datagram, a tick) and, before releasing it, writes the RFB client's
 * outgoing bytes to the desktop. The desktop reader holds the lock while it decodes and encodes, so a
 * slow encoder slows reading from the desktop (TCP backpressure) rather than queueing. A tick only tries
 * the lock (a busy instance is ticked 10 ms later), and ends the instance on a virtual thread of its own,
 * so one instance never holds up the scheduler the others share.
 *
 * <p>Ending: every end has one {@link EndReason}: a desktop disconnect or RFB protocol error, a grace
 * that passed ({@link InstanceCore#endReason()}: no browser attached within {@code attachGraceNs} of the
 * desktop being ready, or after the gateway said VIEWER_LEFT none came back within {@code viewerGraceNs}),
 * a lost gateway (the stream session reported its peer timed out for {@code peerLostNs} without a break),
 * or a stop. The instance sends STATUS to the browser, closes the RFB connection (so the desktop's agent
 * sees no viewer and marks the desktop DISCONNECTED) and logs one line. Malformed or unauthentic
 * datagrams are logged (rate-limited) and dropped. {@link #close()} is idempotent and may be called from
 * any thread.
 */
public final class TranscodingInstance implements AutoCloseable {
    static final long TICK_MS = 10;
    private static final Logger log = LoggerFactory.getLogger(TranscodingInstance.class);
    private static final int READ_BUFFER_BYTES = 64 * 1024;
    private static final int SOCKET_BUFFER_BYTES = 4 << 20;
    /**
     * {@link RfbEncodings#DEFAULT} and Cursor (the desktop sends its cursor shape instead of drawing it: the browser
     * draws it locally) and ExtendedDesktopSize (the browser's window size becomes the desktop's, SetDesktopSize).
     */
    /**
     * The encodings chosen by link ({@code engine.rfb-encodings}) and Cursor and ExtendedDesktopSize: the browser draws
     * the cursor, and the desktop follows the browser's window size (docs/protocol.md §4).
     */
    static RfbEncodings withBrowserPseudoEncodings(RfbEncodings chosen) {
        java.util.List<Integer> codes = new java.util.ArrayList<>(chosen.codes());
        for (int pseudo : new int[] {RfbEncodings.CURSOR, RfbEncodings.EXTENDED_DESKTOP_SIZE}) if (!codes.contains(pseudo)) codes.add(pseudo);
        return new RfbEncodings(codes);
    }

    /** The desktop's framebuffer size as ServerInit announced it. */
    public record DesktopSize(int width, int height) {}

    private final String instanceId;
    private final LaunchSpec spec;
    private final Socket socket;
    private final OutputStream toDesktop;
    private final DatagramChannel channel;
    private final ReentrantLock lock = new ReentrantLock();
    private final RfbClient rfb;
    private final StreamSession stream;
    private final InstanceCore core;
    private final InstanceLimits limits;
    private final NanoClock clock;
    private final CompletableFuture<DesktopSize> ready = new CompletableFuture<>();
    /** Set once, when the instance ends: the instance is closed from then on. */
    private final AtomicReference<EndReason> ended = new AtomicReference<>();
    private final Consumer<TranscodingInstance> onClosed;
    private final RateLimitedLog datagramLog;
    private final Thread desktopReader;
    private final Thread datagramReceiver;
    private volatile ScheduledFuture<?> timers;
    private volatile long lastTickNs = -1;
    private boolean peerTimeoutLogged; // guarded by lock

    private final EngineMetrics metrics;

    private TranscodingInstance(LaunchSpec spec, Socket socket, DatagramChannel channel, InstanceConfig config, NanoClock clock,
                                Consumer<TranscodingInstance> onClosed, EngineMetrics metrics) throws IOException {
        this.metrics = metrics;
        this.spec = spec;
        this.instanceId = spec.instanceId().orElseGet(UUID::randomUUID).toString();
        this.socket = socket;
        this.toDesktop = socket.getOutputStream();
        this.channel = channel;
        this.onClosed = onClosed;
        this.clock = clock;
        this.datagramLog = new RateLimitedLog(log, 1, Duration.ofSeconds(1), clock::nowNs);
        boolean sameHost = RfbEncodingChoice.isSameHost(socket.getInetAddress());
        this.rfb = new RfbClient(spec.vncPassword(), true, new Listener(), withBrowserPseudoEncodings(config.rfbEncodings().encodings(sameHost)));
        this.stream = new StreamSession(StreamSession.Side.ENGINE, spec.tenant(), spec.streamId(), spec.streamKey(), config.stream());
        this.core = new InstanceCore(new RfbDesktop(), this::sendDown, config.encoder(), config.limits(), metrics.lag());
        this.limits = config.limits();
        this.desktopReader = Thread.ofVirtual().name("instance-" + instanceId + "-desktop").unstarted(this::readDesktop);
        this.datagramReceiver = Thread.ofVirtual().name("instance-" + instanceId + "-udp").unstarted(this::receiveDatagrams);
    }

    /**
     * Connects to the desktop and to the gateway's UDP address, schedules the instance's timers on
     * {@code scheduler} and starts its threads. Returns before RFB authentication; use {@link #awaitReady}.
     *
     * @param clock     the only time source of the instance
     * @param scheduler runs the instance's timers (the engine's one scheduler for all its instances)
     * @param onClosed  called once, on the closing thread, when the instance has closed
     * @throws IOException when the desktop cannot be reached within {@code connectTimeout}
     * @throws java.util.concurrent.RejectedExecutionException when {@code scheduler} is shut down
     */
    public static TranscodingInstance launch(LaunchSpec spec, InstanceConfig config, NanoClock clock, ScheduledExecutorService scheduler,
                                             Duration connectTimeout, Consumer<TranscodingInstance> onClosed) throws IOException {
        return launch(spec, config, clock, scheduler, connectTimeout, onClosed, EngineMetrics.unread());
    }

    /** The same, counting its frames, datagrams and lags into the engine's {@code metrics}. */
    static TranscodingInstance launch(LaunchSpec spec, InstanceConfig config, NanoClock clock, ScheduledExecutorService scheduler,
                                      Duration connectTimeout, Consumer<TranscodingInstance> onClosed, EngineMetrics metrics)
            throws IOException {
        Socket socket = new Socket();
        DatagramChannel channel = null;
        TranscodingInstance instance = null;
        try {
            socket.setTcpNoDelay(true);
            socket.connect(new InetSocketAddress(spec.desktopHost(), spec.desktopPort()), connectTimeoutMs(connectTimeout));
            channel = DatagramChannel.open();
            channel.setOption(StandardSocketOptions.SO_SNDBUF, SOCKET_BUFFER_BYTES);
            channel.setOption(StandardSocketOptions.SO_RCVBUF, SOCKET_BUFFER_BYTES);
            channel.connect(spec.gateway());
            instance = new TranscodingInstance(spec, socket, channel, config, clock, onClosed, metrics);
            instance.timers = scheduler.scheduleAtFixedRate(instance::tick, TICK_MS, TICK_MS, TimeUnit.MILLISECONDS);
            instance.desktopReader.start();
            instance.datagramReceiver.start();
            return instance;
        } catch (IOException | RuntimeException e) {
            if (instance != null && instance.timers != null) instance.timers.cancel(false);
            socket.close();
            if (channel != null) channel.close();
            throw e;
        }
    }

    /** {@link Socket#connect}'s int milliseconds: at least 1, at most {@link Integer#MAX_VALUE}, whatever the duration. */
    static int connectTimeoutMs(Duration timeout) {
        if (timeout.compareTo(Duration.ofMillis(Integer.MAX_VALUE)) >= 0) return Integer.MAX_VALUE;
        return (int) Math.max(1, timeout.toMillis());
    }

    public String instanceId() { return instanceId; }

    public UUID sessionId() { return spec.sessionId(); }

    public int tenant() { return spec.tenant(); }

    public boolean isOpen() { return !closed(); }

    private boolean closed() { return ended.get() != null; }

    /** The local address of the instance's UDP channel (where the gateway's datagrams must go). */
    public InetSocketAddress localDatagramAddress() throws IOException {
        return (InetSocketAddress) channel.getLocalAddress();
    }

    /**
     * Waits until the desktop accepted the password and sent ServerInit.
     *
     * @throws DeskgateException with the reason the instance ended before that ({@link Status#UNAUTHORIZED}
     *     when the desktop rejected the password)
     * @throws TimeoutException when {@code timeout} passed first (the instance stays open)
     */
    public DesktopSize awaitReady(Duration timeout) throws TimeoutException, InterruptedException {
        try {
            return ready.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof DeskgateException d) throw d;
            throw new DeskgateException(Status.INTERNAL_ERROR, "instance failed", e.getCause());
        }
    }

    /** The lag of the last acknowledged frame in microseconds, -1 before the first. */
    public long lagMicros() { return withLock(() -> core.flow().lagMicros()); }

    /** The moving average of the lag in microseconds, -1 before the first acknowledged frame. */
    public long averageLagMicros() { return withLock(() -> core.flow().averageLagMicros()); }

    public long framesSent() { return withLock(core::framesSent); }

    /** Why the instance ended; empty while it is open. */
    public Optional<EndReason> endReason() { return Optional.ofNullable(ended.get()); }

    /** The clock value the last tick ran at, -1 before the first (tests wait on it after moving a fake clock). */
    long lastTickNs() { return lastTickNs; }

    /** Stops the instance: tells the browser the session ended and closes both connections. */
    @Override public void close() {
        end(EndReason.stopped());
    }

    // ------------------------------------------------------------ threads

    private void readDesktop() {
        byte[] buffer = new byte[READ_BUFFER_BYTES];
        try {
            InputStream in = socket.getInputStream();
            while (true) {
                int n = in.read(buffer);
                if (n < 0) {
                    end(EndReason.desktopClosed());
                    return;
                }
                lock.lock();
                try {
                    if (closed()) return;
                    rfb.receive(buffer, 0, n);
                    flushDesktop();
                } finally {
                    lock.unlock();
                }
            }
        } catch (ProtocolException e) {
            end(EndReason.desktopProtocolError(e.getMessage()));
        } catch (DeskgateException e) {
            end(EndReason.desktopRefused(e.status(), e.getMessage()));
        } catch (IOException e) {
            end(EndReason.desktopLost(e.getMessage()));
        } catch (RuntimeException e) {
            log.error("transcoding instance {} failed", instanceId, e);
            end(EndReason.internalError(e));
        }
    }

    private void receiveDatagrams() {
        ByteBuffer buffer = ByteBuffer.allocate(StreamSessionConfig.MAX_DATAGRAM_BYTES);
        while (!closed()) {
            buffer.clear();
            try {
                channel.read(buffer);
            } catch (PortUnreachableException e) {
                datagramLog.warn("gateway-unreachable", "instance {}: gateway {} unreachable", instanceId, spec.gateway());
                continue;
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                if (closed()) return;
                datagramLog.warn("receive-failed", "instance {}: datagram receive failed: {}", instanceId, e.toString());
                continue;
            }
            lock.lock();
            try {
                if (closed()) return;
                long now = clock.nowNs();
                try {
                    handle(stream.receive(buffer.array(), buffer.position(), now), now);
                } catch (ProtocolException e) {
                    datagramLog.warn("bad-datagram", "instance {}: dropped a bad datagram: {}", instanceId, e.getMessage());
                }
                flushDesktop();
            } catch (IOException e) {
                end(EndReason.desktopLost(e.getMessage()));
                return;
            } finally {
                lock.unlock();
            }
        }
    }

    /** One run of the instance's timers, on the engine's scheduler: never blocks on a busy instance, never throws. */
    private void tick() {
        if (closed() || !lock.tryLock()) return; // busy: the holder is working, the next tick comes in 10 ms
        EndReason reason;
        try {
            if (closed()) return;
            long now = clock.nowNs();
            handle(stream.tick(now), now);
            core.tick(now);
            boolean timedOut = stream.peerTimedOut(now);
            core.onPeerTimeout(timedOut, now);
            flushDesktop(); // held input the core released goes out before the instance ends
            if (timedOut && !peerTimeoutLogged) {
                log.info("instance {}: nothing heard from the gateway lately; ending in {} ms unless it answers", instanceId,
                        limits.peerLostNs() / 1_000_000);
            }
            peerTimeoutLogged = timedOut;
            reason = core.endReason().orElse(null);
            lastTickNs = now;
        } catch (IOException e) {
            reason = EndReason.desktopLost(e.getMessage());
        } catch (RuntimeException e) {
            log.error("transcoding instance {} failed", instanceId, e);
            reason = EndReason.internalError(e);
        } finally {
            lock.unlock();
        }
        if (reason != null) {
            EndReason r = reason;
            Thread.ofVirtual().name("instance-" + instanceId + "-end").start(() -> end(r)); // off the shared scheduler
        }
    }

    // ------------------------------------------------------------ under the lock

    private void handle(StreamSession.Receipt receipt, long now) {
        writeDatagrams(receipt.replies());
        for (StreamMessage m : receipt.delivered()) core.onUpMessage(m, now);
        if (receipt.refreshNeeded()) core.refresh(now);
    }

    private void sendDown(StreamMessage message, long now) {
        if (message instanceof StreamMessage.FrameEnd) metrics.frameSent();
        writeDatagrams(stream.send(message, now));
    }

    private void writeDatagrams(List<byte[]> datagrams) {
        for (byte[] d : datagrams) {
            try {
                channel.write(ByteBuffer.wrap(d));
                metrics.datagramSent(d.length);
            } catch (PortUnreachableException e) {
                datagramLog.warn("gateway-unreachable", "instance {}: gateway {} unreachable", instanceId, spec.gateway());
            } catch (IOException e) {
                if (!channel.isOpen()) return;
                metrics.error("datagram_send_failed");
                datagramLog.warn("send-failed", "instance {}: datagram send failed: {}", instanceId, e.toString());
            }
        }
    }

    private void flushDesktop() throws IOException {
        byte[] out = rfb.drainOutgoing();
        if (out.length > 0) toDesktop.write(out);
    }

    // ------------------------------------------------------------ ending

    /**
     * Ends the instance once (from any thread, holding the lock or not: it is reentrant): sends STATUS to
     * the browser (if it was streaming), closes the connections, cancels the timers and logs one line.
     */
    private void end(EndReason reason) {
        if (!ended.compareAndSet(null, reason)) return;
        ScheduledFuture<?> t = timers;
        if (t != null) t.cancel(false);
        try {
            if (lock.tryLock(1, TimeUnit.SECONDS)) {
                try {
                    if (core.isReady()) core.end(reason, clock.nowNs());
                } finally {
                    lock.unlock();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            log.debug("instance {}: could not send the final status", instanceId, e);
        }
        closeQuietly(socket);
        closeQuietly(channel);
        lock.lock(); // the connections are closed, so a holder leaves soon
        try {
            core.close();
            rfb.close();
        } finally {
            lock.unlock();
        }
        ready.completeExceptionally(new DeskgateException(reason.status(), reason.detail()));
        if (reason.status() == Status.SESSION_ENDED) {
            log.info("transcoding instance {} of session {} ended: {}", instanceId, spec.sessionId(), reason.detail());
        } else {
            log.warn("transcoding instance {} of session {} ended ({}): {}", instanceId, spec.sessionId(), reason.status(), reason.detail());
        }
        onClosed.accept(this);
    }

    private static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception e) {
            log.debug("close failed", e);
        }
    }

    private <T> T withLock(java.util.function.Supplier<T> read) {
        lock.lock();
        try {
            return read.get();
        } finally {
            lock.unlock();
        }
    }

    // ------------------------------------------------------------ adapters, called under the lock

    private final class Listener implements RfbListener {
        @Override public void onServerInit(int width, int height, String name) {
            core.onServerInit(width, height, clock.nowNs());
            log.debug("instance {}: desktop {}x{} ready", instanceId, width, height);
            ready.complete(new DesktopSize(width, height));
        }

        @Override public void onRect(int x, int y, int w, int h) { core.onRect(x, y, w, h); }

        @Override public void onCopyRect(int srcX, int srcY, int x, int y, int w, int h) { core.onCopyRect(srcX, srcY, x, y, w, h); }

        @Override public void onDesktopSize(int width, int height) { core.onDesktopSize(width, height); }

        @Override public void onUpdateEnd() { core.onUpdateEnd(clock.nowNs()); }

        @Override public void onServerCutText(String text) { core.onServerCutText(text, clock.nowNs()); }

        @Override public void onCursor(RfbCursor c) {
            core.onCursor(c.width(), c.height(), c.hotspotX(), c.hotspotY(), c.argb(), clock.nowNs());
        }

        @Override public void onExtendedDesktopSize(ExtendedDesktopSize layout) {
            core.onExtendedDesktopSize(layout.reason() == ExtendedDesktopSize.REASON_THIS_CLIENT, layout.status(), layout.width(),
                    layout.height(), clock.nowNs());
        }
    }

    private final class RfbDesktop implements Desktop {
        @Override public int width() { return rfb.framebuffer().width(); }

        @Override public int height() { return rfb.framebuffer().height(); }

        @Override public int[] pixels() { return rfb.framebuffer().pixels(); }

        @Override public void requestUpdate(boolean incremental) { rfb.requestUpdate(incremental); }

        @Override public void keyEvent(boolean down, long keysym) { rfb.keyEvent(down, keysym); }

        @Override public void pointerEvent(int x, int y, int buttonMask) { rfb.pointerEvent(x, y, buttonMask); }

        @Override public void clientCutText(String text) { rfb.clientCutText(text); }

        @Override public void setDesktopSize(int width, int height) { rfb.requestDesktopSize(width, height); }
    }
}
