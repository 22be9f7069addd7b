package io.deskgate.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.deskgate.gateway.SpentTokens.Use;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** The gateway's single-use record of STREAM tokens, by token id (the signed nonce). */
class SpentTokensTest {
    final Instant now = Instant.parse("2026-01-01T00:00:00Z");

    @Test
    void shouldAcceptATokenOnceAndRefuseItsReuseUntilItExpires() {
        SpentTokens spent = new SpentTokens(10);
        Instant expires = now.plusSeconds(60);
        assertThat(spent.spend("nonce-a", expires, now)).isEqualTo(Use.FIRST);
        assertThat(spent.spend("nonce-a", expires, now.plusSeconds(59))).isEqualTo(Use.REUSED);
        assertThat(spent.spend("nonce-c", expires, now)).as("another token").isEqualTo(Use.FIRST);
        assertThat(spent.size()).isEqualTo(2);
        spent.spend("nonce-x", now.plusSeconds(120), now.plusSeconds(60));
        assertThat(spent.size()).as("expired tokens forgotten").isEqualTo(1);
    }

    @Test
    void shouldEvictExpiredTokensFirstAndFailClosedWhenFullOfUnexpiredOnes() {
        SpentTokens spent = new SpentTokens(2);
        assertThat(spent.spend("t1", now.plusSeconds(10), now)).isEqualTo(Use.FIRST);
        assertThat(spent.spend("t2", now.plusSeconds(60), now)).isEqualTo(Use.FIRST);
        assertThat(spent.spend("t3", now.plusSeconds(60), now)).as("full of unexpired tokens").isEqualTo(Use.FULL);
        assertThat(spent.spend("t1", now.plusSeconds(10), now)).as("a spent token is not forgotten when full").isEqualTo(Use.REUSED);
        assertThat(spent.spend("t3", now.plusSeconds(60), now.plusSeconds(10))).as("t1 expired, room for t3").isEqualTo(Use.FIRST);
        assertThat(spent.spend("t2", now.plusSeconds(60), now.plusSeconds(10))).isEqualTo(Use.REUSED);
    }
}
