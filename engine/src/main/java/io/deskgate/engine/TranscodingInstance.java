package io.deskgate.engine;

import io.deskgate.common.RateLimitedLog;
import io.deskgate.common.DeskgateException;
import io.deskgate.common.ProtocolException;
import io.deskgate.common.Status;
import io.deskgate.encode.EncoderConfig;
import io.deskgate.rfb.RfbClient;
import io.deskgate.rfb.RfbListener;
import io.deskgate.wire.StreamMessage;
import io.deskgate.wire.StreamSession;
import io.deskgate.wire.StreamSessionConfig;
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
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One transcoding instance (seed 000): speaks RFB to one desktop over TCP and streams it to a gateway
 * over UDP. Its {@link #instanceId()} is its unique reference identifier.
 *
 * <p>Threads and ownership. Three virtual threads feed the instance: the <em>desktop reader</em> (blocks
 * on the RFB socket), the <em>datagram receiver</em> (blocks on the UDP channel) and the <em>ticker</em>
 * (every {@value #TICK_MS} ms: stream timers and flow-control safety net). The {@link RfbClient}, its
 * {@link io.deskgate.rfb.Framebuffer}, the {@link InstanceCore} and the {@link StreamSession} are
 * single-threaded cores and are touched only while holding {@code lock}; each thread takes it for one
 * event (a chunk of RFB bytes, a datagram, a tick) and, before releasing it, writes the RFB client's
 * outgoing bytes to the desktop. The desktop reader holds the lock while it decodes and encodes, so a
 * slow encoder slows reading from the desktop (TCP backpressure) rather than queueing.
 *
 * <p>Ending: a desktop disconnect or RFB protocol error sends a STATUS message to the browser, closes
 * the instance and logs one line. So does the end of a grace ({@link InstanceCore#viewerGone()}): no
 * browser attached within {@code attachGraceNs} of the desktop being ready, or after the gateway said
 * VIEWER_LEFT none came back within {@code viewerGraceNs}; the RFB connection is closed, so the
 * desktop's agent sees no viewer and marks the desktop DISCONNECTED. So does a lost gateway
 * ({@link InstanceCore#peerLost()}): the stream session reported its peer timed out for
 * {@code peerLostNs} without a break. Malformed or unauthentic datagrams are logged (rate-limited) and
 * dropped. {@link #close()} is idempotent and may be called from any thread.
 */
public final class TranscodingInstance implements AutoCloseable {
    static final long TICK_MS = 10;
    private static final Logger log = LoggerFactory.getLogger(TranscodingInstance.class);
    private static final long ORIGIN_NS = System.nanoTime();
    private static final int READ_BUFFER_BYTES = 64 * 1024;
    private static final int SOCKET_BUFFER_BYTES = 4 << 20;

    /** The desktop's framebuffer size as ServerInit announced it. */
    public record DesktopSize(int width, int height) {}

    private final String instanceId = UUID.randomUUID().toString();
    private final LaunchSpec spec;
    private final Socket socket;
    private final OutputStream toDesktop;
    private final DatagramChannel channel;
    private final ReentrantLock lock = new ReentrantLock();
    private final RfbClient rfb;
    private final StreamSession stream;
    private final InstanceCore core;
    private final InstanceCore.Limits limits;
    private final CompletableFuture<DesktopSize> ready = new CompletableFuture<>();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final Consumer<TranscodingInstance> onClosed;
    private final RateLimitedLog datagramLog = new RateLimitedLog(log, 1, Duration.ofSeconds(1), TranscodingInstance::nowNs);
    private final Thread desktopReader;
    private final Thread datagramReceiver;
    private final Thread ticker;
    private boolean peerTimeoutLogged; // guarded by lock

    private TranscodingInstance(LaunchSpec spec, Socket socket, DatagramChannel channel, StreamSessionConfig streamConfig,
                                EncoderConfig encoderConfig, InstanceCore.Limits limits, Consumer<TranscodingInstance> onClosed)
            throws IOException {
        this.spec = spec;
        this.socket = socket;
        this.toDesktop = socket.getOutputStream();
        this.channel = channel;
        this.onClosed = onClosed;
        this.rfb = new RfbClient(spec.vncPassword(), true, new Listener());
        this.stream = new StreamSession(StreamSession.Side.ENGINE, spec.tenant(), spec.sessionId(), spec.streamKey(), streamConfig);
        this.core = new InstanceCore(new RfbDesktop(), this::sendDown, encoderConfig, limits);
        this.limits = limits;
        this.desktopReader = Thread.ofVirtual().name("instance-" + instanceId + "-desktop").unstarted(this::readDesktop);
        this.datagramReceiver = Thread.ofVirtual().name("instance-" + instanceId + "-udp").unstarted(this::receiveDatagrams);
        this.ticker = Thread.ofVirtual().name("instance-" + instanceId + "-tick").unstarted(this::tick);
    }

    /**
     * {@link #launch(LaunchSpec, StreamSessionConfig, EncoderConfig, InstanceCore.Limits, Duration, Consumer)} with
     * the default {@link InstanceCore.Limits} but {@code viewerGraceNs}: how long the instance outlives its
     * last viewer after VIEWER_LEFT (positive).
     */
    public static TranscodingInstance launch(LaunchSpec spec, StreamSessionConfig streamConfig, EncoderConfig encoderConfig,
                                             long viewerGraceNs, Duration connectTimeout, Consumer<TranscodingInstance> onClosed)
            throws IOException {
        return launch(spec, streamConfig, encoderConfig, InstanceCore.Limits.defaults().withViewerGraceNs(viewerGraceNs),
                connectTimeout, onClosed);
    }

    /**
     * Connects to the desktop and to the gateway's UDP address and starts the instance's threads. Returns
     * before RFB authentication; use {@link #awaitReady}.
     *
     * @param limits   flow control and the attach, viewer and lost-gateway timers
     * @param onClosed called once, on the closing thread, when the instance has closed
     * @throws IOException when the desktop cannot be reached within {@code connectTimeout}
     */
    public static TranscodingInstance launch(LaunchSpec spec, StreamSessionConfig streamConfig, EncoderConfig encoderConfig,
                                             InstanceCore.Limits limits, Duration connectTimeout,
                                             Consumer<TranscodingInstance> onClosed) throws IOException {
        Socket socket = new Socket();
        DatagramChannel channel = null;
        try {
            socket.setTcpNoDelay(true);
            socket.connect(new InetSocketAddress(spec.desktopHost(), spec.desktopPort()), (int) Math.max(1, connectTimeout.toMillis()));
            channel = DatagramChannel.open();
            channel.setOption(StandardSocketOptions.SO_SNDBUF, SOCKET_BUFFER_BYTES);
            channel.setOption(StandardSocketOptions.SO_RCVBUF, SOCKET_BUFFER_BYTES);
            channel.connect(spec.gateway());
            TranscodingInstance instance = new TranscodingInstance(spec, socket, channel, streamConfig, encoderConfig, limits, onClosed);
            instance.desktopReader.start();
            instance.datagramReceiver.start();
            instance.ticker.start();
            return instance;
        } catch (IOException | RuntimeException e) {
            socket.close();
            if (channel != null) channel.close();
            throw e;
        }
    }

    public String instanceId() { return instanceId; }

    public UUID sessionId() { return spec.sessionId(); }

    public int tenant() { return spec.tenant(); }

    public boolean isOpen() { return !closed.get(); }

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
    public long lagMicros() { return withLock(core::lagMicros); }

    /** The moving average of the lag in microseconds, -1 before the first acknowledged frame. */
    public long averageLagMicros() { return withLock(core::averageLagMicros); }

    public long framesSent() { return withLock(core::framesSent); }

    /** Stops the instance: tells the browser the session ended and closes both connections. */
    @Override public void close() {
        end(Status.SESSION_ENDED, "session stopped", "stopped");
    }

    // ------------------------------------------------------------ threads

    private void readDesktop() {
        byte[] buffer = new byte[READ_BUFFER_BYTES];
        try {
            InputStream in = socket.getInputStream();
            while (true) {
                int n = in.read(buffer);
                if (n < 0) {
                    end(Status.SESSION_ENDED, "the desktop closed the connection", "desktop closed the connection");
                    return;
                }
                lock.lock();
                try {
                    if (closed.get()) return;
                    rfb.receive(buffer, 0, n);
                    flushDesktop();
                } finally {
                    lock.unlock();
                }
            }
        } catch (ProtocolException e) {
            end(Status.PROTOCOL_ERROR, "desktop protocol error", "RFB protocol error: " + e.getMessage());
        } catch (DeskgateException e) {
            end(e.status(), "desktop refused the session", e.getMessage());
        } catch (IOException e) {
            end(Status.SESSION_ENDED, "desktop connection lost", "desktop connection lost: " + e.getMessage());
        } catch (RuntimeException e) {
            log.error("transcoding instance {} failed", instanceId, e);
            end(Status.INTERNAL_ERROR, "engine error", "internal error: " + e);
        }
    }

    private void receiveDatagrams() {
        ByteBuffer buffer = ByteBuffer.allocate(StreamSessionConfig.MAX_DATAGRAM_BYTES);
        while (!closed.get()) {
            buffer.clear();
            try {
                channel.read(buffer);
            } catch (PortUnreachableException e) {
                datagramLog.warn("gateway-unreachable", "instance {}: gateway {} unreachable", instanceId, spec.gateway());
                continue;
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                if (closed.get()) return;
                datagramLog.warn("receive-failed", "instance {}: datagram receive failed: {}", instanceId, e.toString());
                continue;
            }
            lock.lock();
            try {
                if (closed.get()) return;
                long now = nowNs();
                try {
                    handle(stream.receive(buffer.array(), buffer.position(), now), now);
                } catch (ProtocolException e) {
                    datagramLog.warn("bad-datagram", "instance {}: dropped a bad datagram: {}", instanceId, e.getMessage());
                }
                flushDesktop();
            } catch (IOException e) {
                end(Status.SESSION_ENDED, "desktop connection lost", "desktop connection lost: " + e.getMessage());
                return;
            } finally {
                lock.unlock();
            }
        }
    }

    private void tick() {
        while (!closed.get()) {
            try {
                Thread.sleep(TICK_MS);
            } catch (InterruptedException e) {
                return;
            }
            boolean viewerGone;
            boolean everAttached;
            boolean peerLost;
            lock.lock();
            try {
                if (closed.get()) return;
                long now = nowNs();
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
                viewerGone = core.viewerGone();
                everAttached = core.everAttached();
                peerLost = core.peerLost();
            } catch (IOException e) {
                end(Status.SESSION_ENDED, "desktop connection lost", "desktop connection lost: " + e.getMessage());
                return;
            } finally {
                lock.unlock();
            }
            if (viewerGone && everAttached) {
                end(Status.SESSION_ENDED, "no viewer", "no viewer within " + limits.viewerGraceNs() / 1_000_000
                        + " ms of the gateway's VIEWER_LEFT");
                return;
            }
            if (viewerGone) {
                end(Status.SESSION_ENDED, "no viewer", "no browser attached within " + limits.attachGraceNs() / 1_000_000
                        + " ms of the desktop being ready");
                return;
            }
            if (peerLost) {
                end(Status.SESSION_ENDED, "gateway lost", "nothing heard from the gateway for "
                        + limits.peerLostNs() / 1_000_000 + " ms past its timeout");
                return;
            }
        }
    }

    // ------------------------------------------------------------ under the lock

    private void handle(StreamSession.Receipt receipt, long now) {
        writeDatagrams(receipt.replies());
        for (StreamMessage m : receipt.delivered()) core.onUpMessage(m, now);
        if (receipt.refreshNeeded()) core.refresh(now);
    }

    private void sendDown(StreamMessage message, long now) {
        writeDatagrams(stream.send(message, now));
    }

    private void writeDatagrams(List<byte[]> datagrams) {
        for (byte[] d : datagrams) {
            try {
                channel.write(ByteBuffer.wrap(d));
            } catch (PortUnreachableException e) {
                datagramLog.warn("gateway-unreachable", "instance {}: gateway {} unreachable", instanceId, spec.gateway());
            } catch (IOException e) {
                if (!channel.isOpen()) return;
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
     * Ends the instance once (from any thread, holding the lock or not: it is reentrant): sends STATUS to the browser (if it was streaming), closes the connections
     * and logs one line. {@code statusText} goes to the browser; {@code logReason} to the log. Neither
     * may hold a secret.
     */
    private void end(Status status, String statusText, String logReason) {
        if (!closed.compareAndSet(false, true)) return;
        try {
            if (lock.tryLock(1, TimeUnit.SECONDS)) {
                try {
                    if (core.isReady()) core.end(status, statusText, nowNs());
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
        ticker.interrupt();
        lock.lock(); // the connections are closed, so a holder leaves soon
        try {
            core.close();
            rfb.close();
        } finally {
            lock.unlock();
        }
        ready.completeExceptionally(new DeskgateException(status, logReason));
        if (status == Status.SESSION_ENDED) {
            log.info("transcoding instance {} of session {} ended: {}", instanceId, spec.sessionId(), logReason);
        } else {
            log.warn("transcoding instance {} of session {} ended ({}): {}", instanceId, spec.sessionId(), status, logReason);
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

    /** Monotonic, not negative (so it serves as FRAME_END's server time). */
    static long nowNs() {
        return System.nanoTime() - ORIGIN_NS;
    }

    // ------------------------------------------------------------ adapters, called under the lock

    private final class Listener implements RfbListener {
        @Override public void onServerInit(int width, int height, String name) {
            core.onServerInit(width, height, nowNs());
            log.debug("instance {}: desktop {}x{} ready", instanceId, width, height);
            ready.complete(new DesktopSize(width, height));
        }

        @Override public void onRect(int x, int y, int w, int h) { core.onRect(x, y, w, h); }

        @Override public void onCopyRect(int srcX, int srcY, int x, int y, int w, int h) { core.onCopyRect(srcX, srcY, x, y, w, h); }

        @Override public void onDesktopSize(int width, int height) { core.onDesktopSize(width, height); }

        @Override public void onUpdateEnd() { core.onUpdateEnd(nowNs()); }

        @Override public void onServerCutText(String text) { core.onServerCutText(text, nowNs()); }
    }

    private final class RfbDesktop implements Desktop {
        @Override public int width() { return rfb.framebuffer().width(); }

        @Override public int height() { return rfb.framebuffer().height(); }

        @Override public int[] pixels() { return rfb.framebuffer().pixels(); }

        @Override public void requestUpdate(boolean incremental) { rfb.requestUpdate(incremental); }

        @Override public void keyEvent(boolean down, long keysym) { rfb.keyEvent(down, keysym); }

        @Override public void pointerEvent(int x, int y, int buttonMask) { rfb.pointerEvent(x, y, buttonMask); }

        @Override public void clientCutText(String text) { rfb.clientCutText(text); }
    }
}
