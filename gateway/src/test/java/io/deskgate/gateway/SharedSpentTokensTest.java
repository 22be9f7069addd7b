package io.deskgate.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.deskgate.common.Secrets;
import io.deskgate.common.Status;
import io.deskgate.store.Database;
import io.deskgate.store.SpentTokenStore;
import io.deskgate.stream.StreamMessage.RefreshRequest;
import io.deskgate.tokens.TokenClaims;
import io.deskgate.tokens.TokenSigner;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 9 item 5: two in-process gateways spending their STREAM tokens in one store (embedded PostgreSQL): a
 * token is single-use across both, and a gateway whose store is gone refuses (4502) rather than hangs.
 */
class SharedSpentTokensTest {
    final byte[] tokenKey = Secrets.randomBytes(32);
    final byte[] master = Secrets.randomBytes(32);
    final TokenSigner signer = new TokenSigner(tokenKey);
    final List<AutoCloseable> open = new ArrayList<>();
    int issued;

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : open.reversed()) c.close();
    }

    private Gateway gateway(Database db) throws Exception {
        Gateway g = Gateway.start(GatewayConfig.builder().tokenKey(tokenKey).streamMasterSecret(master).build(),
                new SpentTokenStore(db.dataSource()));
        open.add(g);
        return g;
    }

    private String token(UUID session) {
        return signer.sign(new TokenClaims(TokenClaims.STREAM, "alice", 1, session.toString(),
                Instant.now().plusSeconds(60 + issued++)));
    }

    private FakeEngine engine(Gateway g, UUID session) throws Exception {
        FakeEngine e = FakeEngine.of(g, master, 1, session);
        open.add(e);
        e.hello();
        GatewaySystemTest.until("session at gateway", () -> g.sessionCount() > 0, e);
        return e;
    }

    private TestBrowser browser(Gateway g, String token) {
        TestBrowser b = TestBrowser.open(g, token);
        open.add(() -> b.ws.abort());
        return b;
    }

    @Test
    void shouldRefuseATokenSpentAtGatewayOneWhenItIsPresentedAtGatewayTwo(@TempDir Path dir) throws Exception {
        Database db = Database.embedded(dir);
        open.add(db);
        Gateway one = gateway(db);
        Gateway two = gateway(db);
        UUID s = UUID.randomUUID();
        FakeEngine atOne = engine(one, s);
        FakeEngine atTwo = engine(two, s);

        String once = token(s);
        TestBrowser first = browser(one, once);
        GatewaySystemTest.until("RefreshRequest from the attach at gateway 1", () -> atOne.received.contains(new RefreshRequest()), atOne);
        assertThat(browser(two, once).awaitClose()).as("the same token at gateway 2").isEqualTo(Status.UNAUTHORIZED.wsCloseCode());
        assertThat(browser(one, once).awaitClose()).as("and again at gateway 1").isEqualTo(Status.UNAUTHORIZED.wsCloseCode());
        assertThat(first.closeCode).as("the first browser stays").isNotDone();

        browser(two, token(s));
        GatewaySystemTest.until("RefreshRequest from a fresh token's attach at gateway 2",
                () -> atTwo.received.contains(new RefreshRequest()), atTwo);
    }

    @Test
    void shouldRefuseWith4502WithinTheStoreWaitWhenTheStoreHangsOnTheInsert(@TempDir Path dir) throws Exception {
        Database db = Database.embedded(dir);
        open.add(db);
        Gateway g = gateway(db);
        UUID s = UUID.randomUUID();
        engine(g, s);
        String t = token(s);
        String id = signer.open(t, TokenClaims.STREAM, Instant.now()).orElseThrow().id();
        // Another transaction inserts the same id and does not commit: the gateway's insert waits on it.
        try (Connection holder = db.dataSource().getConnection()) {
            holder.setAutoCommit(false);
            try (PreparedStatement st = holder.prepareStatement(
                    "INSERT INTO spent_stream_tokens (token_id, expires_at) VALUES (?, now() + interval '1 minute')")) {
                st.setString(1, id);
                st.executeUpdate();
            }
            assertThat(browser(g, t).awaitClose()).as("a store that does not answer").isEqualTo(Status.UPSTREAM_UNAVAILABLE.wsCloseCode());
            holder.rollback();
        }
    }

    @Test
    void shouldRefuseWith4502RatherThanHangWhenTheStoreIsGone(@TempDir Path dir) throws Exception {
        Database db = Database.embedded(dir);
        Gateway g = gateway(db);
        UUID s = UUID.randomUUID();
        engine(g, s);
        db.close();
        assertThat(browser(g, token(s)).awaitClose()).as("a good token the store cannot record")
                .isEqualTo(Status.UPSTREAM_UNAVAILABLE.wsCloseCode());
    }
}
