package io.deskgate.gateway;

import io.deskgate.common.DeskgateException;
import io.deskgate.common.RateLimitedLog;
import io.deskgate.common.Status;
import io.deskgate.store.SpentTokenStore;
import io.deskgate.tokens.TokenSigner;
import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.ssl.SslHandler;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLEngine;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A gateway: receives sessions' interactive streams from engines over UDP (docs/protocol.md §2) and
 * relays them to browsers over WebSocket ({@code /stream?token=...}, one stream message per binary
 * frame), carrying input back.
 *
 * <p>Threads: one event loop owns the UDP channel, every session's {@code StreamSession} and the
 * 10 ms timer; WebSocket connections run on a second group and hop to that loop to reach a session.
 * Epoll when available, NIO otherwise. Thread-safe: every public method may be called from any thread.
 *
 * <p>Limits against cheap overload: at most {@link GatewayConfig#maxConnections()} TCP connections; a
 * connection that has not upgraded within {@link GatewayConfig#upgradeTimeoutNs()} is closed; each
 * STREAM token attaches once: once in the fleet when the gateway spends its tokens in the store
 * ({@link StoreSpentTokens}, as every launched gateway does), else once at this gateway ({@link SpentTokens}); a datagram for an unknown session is authenticated
 * before any state is made for it ({@link SessionTable}).
 */
public final class Gateway implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Gateway.class);
    static final long TICK_MS = 10;
    private static final int MAX_HTTP_REQUEST_BYTES = 8192;
    /** Spent STREAM tokens remembered until they expire; past it new tokens are refused (see {@link SpentTokens}). */
    static final int MAX_SPENT_TOKENS = 100_000;
    private static final long REFUSAL_LOG_INTERVAL_NS = 1_000_000_000L;

    private final GatewayConfig config;
    private final EventLoopGroup udpGroup;
    private final EventLoopGroup wsGroup;
    private final SessionTable table;
    private final SpentTokenLedger spentTokens;
    /** Refused upgrades and refused browser frames: a few short lines per reason per 10 s, every connection. */
    private final RateLimitedLog upgradeRefusals = new RateLimitedLog(LoggerFactory.getLogger(StreamUpgradeHandler.class));
    private final RateLimitedLog frameRefusals = new RateLimitedLog(LoggerFactory.getLogger(BrowserFrameHandler.class));
    private final AtomicInteger connections = new AtomicInteger();
    private final AtomicLong refusedConnections = new AtomicLong();
    private final AtomicLong lastRefusalLogNs = new AtomicLong(System.nanoTime() - REFUSAL_LOG_INTERVAL_NS);
    private Channel udpChannel;
    private Channel wsChannel;
    private ScheduledFuture<?> ticker;

    private final GatewayMetrics metrics;

    private Gateway(GatewayConfig config, SpentTokenLedger spentTokens, GatewayMetrics metrics) {
        this.config = config;
        this.spentTokens = spentTokens;
        this.metrics = metrics;
        IoHandlerFactory io = Epoll.isAvailable() ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
        this.udpGroup = new MultiThreadIoEventLoopGroup(1, io);
        this.wsGroup = new MultiThreadIoEventLoopGroup(2, io);
        this.table = new SessionTable(config, (datagram, to) ->
                udpChannel.writeAndFlush(new DatagramPacket(Unpooled.wrappedBuffer(datagram), to), udpChannel.voidPromise()),
                metrics);
    }

    /**
     * Binds both listeners and starts relaying; STREAM tokens are single-use at this gateway only (its memory):
     * for a gateway on its own.
     */
    public static Gateway start(GatewayConfig config) throws IOException {
        return start(config, GatewayMetrics.unread());
    }

    /** Binds both listeners and starts relaying, counting into {@code metrics}; tokens spent in this gateway's memory. */
    public static Gateway start(GatewayConfig config, GatewayMetrics metrics) throws IOException {
        return start(config, SpentTokenLedger.inMemory(new SpentTokens(MAX_SPENT_TOKENS)), metrics);
    }

    /**
     * Binds both listeners and starts relaying; STREAM tokens are spent in {@code spentTokens}, the store every
     * gateway of the fleet shares, so that a token is single-use across all of them. A browser's attach waits at
     * most {@link StoreSpentTokens#STORE_WAIT} for the store, and is refused (close code 4502) when it does not answer.
     */
    public static Gateway start(GatewayConfig config, SpentTokenStore spentTokens) throws IOException {
        return start(config, spentTokens, GatewayMetrics.unread());
    }

    /** As above, counting into {@code metrics}. */
    public static Gateway start(GatewayConfig config, SpentTokenStore spentTokens, GatewayMetrics metrics) throws IOException {
        return start(config, new StoreSpentTokens(spentTokens, Clock.systemUTC()), metrics);
    }

    private static Gateway start(GatewayConfig config, SpentTokenLedger spentTokens, GatewayMetrics metrics) throws IOException {
        Gateway g = new Gateway(config, spentTokens, metrics);
        try {
            g.bind();
            metrics.watch(g);
        } catch (IOException | RuntimeException e) {
            g.close();
            throw e;
        }
        return g;
    }

    private void bind() throws IOException {
        boolean epoll = Epoll.isAvailable();
        Class<? extends DatagramChannel> udpClass = epoll ? EpollDatagramChannel.class : NioDatagramChannel.class;
        Class<? extends ServerChannel> tcpClass = epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
        udpChannel = await(new Bootstrap().group(udpGroup).channel(udpClass)
                .option(ChannelOption.SO_RCVBUF, 4 << 20).option(ChannelOption.SO_SNDBUF, 4 << 20)
                .handler(new UdpDatagramHandler(table))
                .bind(config.bindHost(), config.udpPort()), "UDP", config.udpPort());
        ticker = udpChannel.eventLoop().scheduleAtFixedRate(this::tick, TICK_MS, TICK_MS, TimeUnit.MILLISECONDS);
        TokenSigner tokens = new TokenSigner(config.tokenKey());
        wsChannel = await(new ServerBootstrap().group(wsGroup).channel(tcpClass)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override protected void initChannel(SocketChannel ch) {
                        if (!admit(ch)) return;
                        config.tls().ifPresent(ctx -> {
                            SSLEngine engine = ctx.createSSLEngine();
                            engine.setUseClientMode(false);
                            ch.pipeline().addLast("tls", new SslHandler(engine));
                        });
                        ch.pipeline().addLast("http", new HttpServerCodec());
                        ch.pipeline().addLast("aggregator", new HttpObjectAggregator(MAX_HTTP_REQUEST_BYTES));
                        ch.pipeline().addLast("upgrade", new StreamUpgradeHandler(tokens, spentTokens, Clock.systemUTC(),
                                config.maxWsFrameBytes(), Gateway.this::attach, upgradeRefusals, metrics));
                        ScheduledFuture<?> deadline = ch.eventLoop().schedule(() -> {
                            if (ch.pipeline().get(StreamUpgradeHandler.class) == null) return; // upgraded
                            LOG.debug("connection from {} closed: no WebSocket upgrade within the deadline", ch.remoteAddress());
                            ch.close();
                        }, config.upgradeTimeoutNs(), TimeUnit.NANOSECONDS);
                        ch.closeFuture().addListener(f -> deadline.cancel(false));
                    }
                })
                .bind(config.bindHost(), config.wsPort()), "WebSocket", config.wsPort());
        LOG.info("gateway up: udp {} ws {} ({}, {})", udpAddress(), wsAddress(), config.tls().isPresent() ? "wss" : "ws",
                epoll ? "epoll" : "nio");
    }

    /**
     * Counts a new connection against {@link GatewayConfig#maxConnections()}; past it the connection is
     * closed at once (one log line a second at most). Runs on the new channel's event loop.
     */
    private boolean admit(SocketChannel ch) {
        if (connections.incrementAndGet() > config.maxConnections()) {
            connections.decrementAndGet();
            long refused = refusedConnections.incrementAndGet();
            long now = System.nanoTime();
            long last = lastRefusalLogNs.get();
            if (now - last >= REFUSAL_LOG_INTERVAL_NS && lastRefusalLogNs.compareAndSet(last, now)) {
                LOG.warn("refused a connection from {}: {} connections open, the most allowed ({} refused since start)",
                        ch.remoteAddress(), config.maxConnections(), refused);
            }
            ch.close();
            return false;
        }
        ch.closeFuture().addListener(f -> connections.decrementAndGet());
        return true;
    }

    private Channel await(io.netty.channel.ChannelFuture f, String what, int port) throws IOException {
        f.awaitUninterruptibly();
        if (!f.isSuccess()) {
            Throwable cause = f.cause();
            if (cause instanceof java.net.BindException || String.valueOf(cause.getMessage()).contains("Address already in use")) {
                throw new DeskgateException(Status.INTERNAL_ERROR,
                        "gateway " + what + " port " + port + " on " + config.bindHost() + " is already in use");
            }
            throw new IOException("cannot bind the " + what + " listener: " + cause.getMessage(), cause);
        }
        return f.channel();
    }

    /** Called on the WebSocket channel's event loop after a verified upgrade. */
    private void attach(ChannelHandlerContext ctx, SessionKey session) {
        BrowserLink link = new BrowserLink(ctx.channel(), session);
        EventLoop udp = udpChannel.eventLoop();
        ctx.pipeline().addLast("downstream", new DownstreamFlowHandler(
                () -> udp.execute(() -> table.resync(link, System.nanoTime()))));
        ctx.pipeline().addLast("frames", new BrowserFrameHandler(session,
                m -> udp.execute(() -> table.fromBrowser(link, m, System.nanoTime())),
                () -> udp.execute(() -> table.detach(link, System.nanoTime())), frameRefusals));
        if (!ctx.channel().isActive()) return; // closed during the upgrade: nothing to attach
        udp.execute(() -> table.attach(link, System.nanoTime()));
    }

    private void tick() {
        try {
            table.tick(System.nanoTime());
        } catch (RuntimeException e) {
            LOG.error("gateway tick failed", e); // an internal bug; keep the timer alive for the other sessions
            metrics.error("tick_failed");
        }
    }

    public GatewayConfig config() { return config; }

    public InetSocketAddress udpAddress() { return (InetSocketAddress) udpChannel.localAddress(); }

    public InetSocketAddress wsAddress() { return (InetSocketAddress) wsChannel.localAddress(); }

    /** The URL a browser opens, without the token: {@code ws://host:port/stream}, or {@code wss://} with TLS. */
    public String wsUrl(String host) {
        return (config.tls().isPresent() ? "wss" : "ws") + "://" + host + ":" + wsAddress().getPort() + StreamUpgradeHandler.PATH;
    }

    /** TCP connections (HTTP, upgrading or WebSocket) open now. */
    public int connectionCount() { return connections.get(); }

    /** Sessions held now (created by an engine's datagram or a browser's attach). */
    public int sessionCount() { return table.size(); }

    /** TCP connections refused past {@link GatewayConfig#maxConnections()} since start. */
    public long refusedConnections() { return refusedConnections.get(); }

    /** Datagrams dropped as malformed, unauthenticated or unwanted since start. */
    public long droppedDatagrams() { return table.droppedDatagrams(); }

    /** Stops both listeners, closes every browser with SESSION_ENDED and releases the threads. Idempotent. */
    @Override public void close() {
        if (ticker != null) ticker.cancel(false);
        if (udpChannel != null) {
            udpChannel.eventLoop().submit(table::closeAll).awaitUninterruptibly(1, TimeUnit.SECONDS);
            udpChannel.close().awaitUninterruptibly(1, TimeUnit.SECONDS);
        }
        if (wsChannel != null) wsChannel.close().awaitUninterruptibly(1, TimeUnit.SECONDS);
        wsGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
        udpGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
        spentTokens.close();
    }
}
