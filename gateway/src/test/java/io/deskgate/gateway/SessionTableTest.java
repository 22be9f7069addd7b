package io.deskgate.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.deskgate.common.Secrets;
import io.deskgate.common.Status;
import io.deskgate.stream.StreamKeys;
import io.deskgate.stream.StreamMessage;
import io.deskgate.stream.StreamMessage.FrameEnd;
import io.deskgate.stream.StreamMessage.RefreshRequest;
import io.deskgate.stream.StreamMessage.ViewerLeft;
import io.deskgate.stream.StreamSession;
import io.deskgate.stream.StreamSessionConfig;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The gateway's session table with browsers on EmbeddedChannels (what they are sent is read back as
 * messages and close frames) and the engine as a {@link StreamSession} on the test thread; time is passed in.
 */
class SessionTableTest {
    static final long MS = 1_000_000L;
    static final int TENANT = 5;
    static final InetSocketAddress ENGINE = new InetSocketAddress("127.0.0.1", 40_001);
    final byte[] master = Secrets.randomBytes(32);
    final GatewayConfig config = GatewayConfig.builder().tokenKey(Secrets.randomBytes(32)).streamMasterSecret(master)
            .build();
    final List<byte[]> toEngine = new ArrayList<>();
    final List<EmbeddedChannel> channels = new ArrayList<>();
    final UUID id = UUID.randomUUID();
    long now = 1_000 * MS;

    @AfterEach
    void releaseChannels() {
        channels.forEach(EmbeddedChannel::finishAndReleaseAll);
    }

    SessionTable table(GatewayConfig c) {
        return new SessionTable(c, (datagram, to) -> {
            assertThat(to).isEqualTo(ENGINE);
            toEngine.add(datagram);
        });
    }

    StreamSession engine(int tenant, UUID session, int keyTenant) {
        return new StreamSession(StreamSession.Side.ENGINE, tenant, session,
                new StreamKeys(master).derive(keyTenant, session.toString()), StreamSessionConfig.defaults());
    }

    BrowserLink browser(int tenant, UUID session) {
        EmbeddedChannel ch = new EmbeddedChannel();
        channels.add(ch);
        return new BrowserLink(ch, new SessionKey(tenant, session));
    }

    /** What the engine receives of the datagrams the table sent it so far. */
    List<StreamMessage> engineReceives(StreamSession engine) {
        List<StreamMessage> got = new ArrayList<>();
        for (byte[] d : toEngine) got.addAll(engine.receive(d, d.length, now).delivered());
        toEngine.clear();
        return got;
    }

    static List<Object> browserReceives(BrowserLink b) {
        EmbeddedChannel ch = (EmbeddedChannel) b.channel();
        ch.runPendingTasks();
        List<Object> got = new ArrayList<>();
        for (Object o; (o = ch.readOutbound()) != null; ) {
            if (o instanceof CloseWebSocketFrame f) {
                got.add("close " + f.statusCode() + " " + f.reasonText());
                f.release();
            } else {
                got.add(o);
            }
        }
        return got;
    }

    void fromEngine(SessionTable table, StreamSession engine, StreamMessage m) {
        for (byte[] d : engine.send(m, now)) table.onDatagram(d, ENGINE, now);
    }

    @Test
    void shouldCreateASessionOnlyForAnAuthenticDatagramAndProbeItsEngine() {
        SessionTable table = table(config);
        StreamSession forged = engine(TENANT, id, TENANT + 1); // another tenant's key under this tenant's header
        fromEngine(table, forged, new FrameEnd(1, 1));
        table.onDatagram(new byte[] {1, 2, 3}, ENGINE, now);
        assertThat(table.size()).as("nothing allocated for a forgery").isZero();
        assertThat(table.droppedDatagrams()).isEqualTo(2);
        assertThat(toEngine).isEmpty();

        StreamSession engine = engine(TENANT, id, TENANT);
        fromEngine(table, engine, new FrameEnd(1, 1));
        table.tick(now);
        assertThat(table.size()).isEqualTo(1);
        assertThat(toEngine).as("the probe that lets the engine NACK what it sent before").isNotEmpty();
    }

    @Test
    void shouldRelayBothWaysAndAskForTheWholePictureWhenABrowserAttaches() {
        SessionTable table = table(config);
        StreamSession engine = engine(TENANT, id, TENANT);
        table.onDatagram(engine.probe(now), ENGINE, now); // the engine speaks first: the gateway learns its address
        engineReceives(engine);

        BrowserLink b = browser(TENANT, id);
        table.attach(b, now);
        assertThat(engineReceives(engine)).containsExactly(new RefreshRequest());
        fromEngine(table, engine, new FrameEnd(7, 70));
        assertThat(browserReceives(b)).containsExactly(new FrameEnd(7, 70));
        table.fromBrowser(b, new StreamMessage.Key(true, 0x61), now);
        assertThat(engineReceives(engine)).containsExactly(new StreamMessage.Key(true, 0x61));
    }

    @Test
    void shouldCloseAReplacedBrowserAndSendViewerLeftOnlyWhenTheAttachedOneLeaves() {
        SessionTable table = table(config);
        StreamSession engine = engine(TENANT, id, TENANT);
        table.onDatagram(engine.probe(now), ENGINE, now);
        engineReceives(engine);
        BrowserLink first = browser(TENANT, id);
        BrowserLink second = browser(TENANT, id);
        table.attach(first, now);
        table.attach(second, now);
        assertThat(browserReceives(first)).containsExactly("close " + Status.OK.wsCloseCode()
                + " replaced by a newer connection to this session");
        assertThat(engineReceives(engine)).containsExactly(new RefreshRequest(), new RefreshRequest());
        table.fromBrowser(first, new StreamMessage.Key(true, 0x62), now);
        table.detach(first, now);
        assertThat(engineReceives(engine)).as("the replaced browser is not the viewer any more").isEmpty();
        table.detach(second, now);
        assertThat(engineReceives(engine)).containsExactly(new ViewerLeft());
    }

    @Test
    void shouldRemoveASessionWhoseEngineWentQuietAndCloseItsBrowser() {
        SessionTable table = table(config);
        StreamSession engine = engine(TENANT, id, TENANT);
        table.onDatagram(engine.probe(now), ENGINE, now);
        BrowserLink b = browser(TENANT, id);
        table.attach(b, now);
        table.tick(now + config.engineIdleTimeoutNs());
        assertThat(table.size()).isEqualTo(1);
        table.tick(now + config.engineIdleTimeoutNs() + 1);
        assertThat(table.size()).isZero();
        assertThat(browserReceives(b)).containsExactly("close " + Status.SESSION_ENDED.wsCloseCode()
                + " the desktop stream ended");
    }

    @Test
    void shouldKeepTheSameSessionIdUnderTwoTenantsApartAndRefuseNewSessionsWhenFull() {
        SessionTable table = table(config.toBuilder().maxSessions(2).build());
        BrowserLink one = browser(TENANT, id);
        BrowserLink two = browser(TENANT + 1, id);
        table.attach(one, now);
        table.attach(two, now);
        table.tick(now);
        assertThat(table.size()).as("one session id, two tenants: two sessions").isEqualTo(2);
        StreamSession engine = engine(TENANT + 1, id, TENANT + 1);
        table.onDatagram(engine.probe(now), ENGINE, now);
        fromEngine(table, engine, new FrameEnd(3, 30));
        assertThat(browserReceives(one)).as("tenant 5's browser gets nothing of tenant 6's stream").isEmpty();
        assertThat(browserReceives(two)).containsExactly(new FrameEnd(3, 30));

        BrowserLink third = browser(TENANT, UUID.randomUUID());
        table.attach(third, now);
        assertThat(browserReceives(third)).containsExactly("close " + Status.UPSTREAM_UNAVAILABLE.wsCloseCode() + " gateway full");
        StreamSession late = engine(TENANT, UUID.randomUUID(), TENANT);
        table.onDatagram(late.probe(now), ENGINE, now);
        table.tick(now);
        assertThat(table.size()).isEqualTo(2);
        assertThat(table.droppedDatagrams()).isEqualTo(1);
    }
}
