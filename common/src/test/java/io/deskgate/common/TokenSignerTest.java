package io.deskgate.common;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.Random;
import org.junit.jupiter.api.Test;

class TokenSignerTest {
    private static final byte[] KEY = "0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
    private static final Instant NOW = Instant.parse("2026-11-23T10:00:00Z");
    private static final String GOLDEN_MAC = "34kVIgfi4I4W-1d-Er0vaFT3RfuZngbTkc7tgM3gbeA";
    private final TokenSigner signer = new TokenSigner(KEY);
    private final TokenClaims claims = new TokenClaims(TokenClaims.STREAM, "alice", 7,
            "e769dd17-c08a-4c28-b877-ed623c53fa01", NOW.plusSeconds(60));

    @Test
    void shouldVerifyWhatItSigned() {
        String token = signer.sign(claims);
        assertThat(token).startsWith("v1.");
        assertThat(signer.verify(token, TokenClaims.STREAM, NOW)).contains(claims);
    }

    @Test
    void shouldProduceTheGoldenToken() {
        // Golden vector: the format is shared by the frontdoor and every gateway.
        TokenClaims login = new TokenClaims(TokenClaims.LOGIN, "admin", 1, "", Instant.ofEpochSecond(1_800_000_000L));
        String token = signer.sign(login, "bm9uY2U");
        String payload = token.split("\\.")[1];
        assertThat(new String(Base64.getUrlDecoder().decode(payload), StandardCharsets.UTF_8))
                .isEqualTo("login|admin|1||1800000000|bm9uY2U");
        // HMAC-SHA256 with key "0123456789abcdef0123456789abcdef" over the base64url payload, by openssl
        assertThat(token).isEqualTo("v1." + payload + "." + GOLDEN_MAC);
    }

    @Test
    void shouldMakeEveryTokenDistinctSoAGatewayCanAcceptEachOnce() {
        String a = signer.sign(claims);
        String b = signer.sign(claims);
        assertThat(a).isNotEqualTo(b);
        assertThat(signer.verify(a, TokenClaims.STREAM, NOW)).contains(claims);
        assertThat(signer.verify(b, TokenClaims.STREAM, NOW)).contains(claims);
    }

    @Test
    void shouldRejectAnExpiredToken() {
        String token = signer.sign(claims);
        assertThat(signer.verify(token, TokenClaims.STREAM, NOW.plusSeconds(60))).isEmpty();
        assertThat(signer.verify(token, TokenClaims.STREAM, NOW.plusSeconds(59))).isPresent();
    }

    @Test
    void shouldRejectATokenOfAnotherKind() {
        assertThat(signer.verify(signer.sign(claims), TokenClaims.LOGIN, NOW)).isEmpty();
    }

    @Test
    void shouldRejectATokenSignedWithAnotherKey() {
        byte[] other = KEY.clone();
        other[0] ^= 1;
        assertThat(signer.verify(new TokenSigner(other).sign(claims), TokenClaims.STREAM, NOW)).isEmpty();
    }

    @Test
    void shouldRejectATamperedPayloadEvenWithAPlausibleTenant() {
        String token = signer.sign(claims);
        String[] parts = token.split("\\.");
        String forged = Base64.getUrlEncoder().withoutPadding().encodeToString(
                ("stream|alice|8|" + claims.sessionId() + "|" + claims.expiresAt().getEpochSecond() + "|bm9uY2U")
                        .getBytes(StandardCharsets.UTF_8));
        assertThat(signer.verify(parts[0] + "." + forged + "." + parts[2], TokenClaims.STREAM, NOW)).isEmpty();
    }

    @Test
    void shouldRejectMalformedTokensWithoutThrowing() {
        Random random = new Random(42);
        String good = signer.sign(claims);
        for (String bad : new String[] {"", "v1", "v1..", "v2.a.b", "v1.!!!.???", "v1.a.b.c", "x".repeat(5000), null}) {
            assertThat(signer.verify(bad, TokenClaims.STREAM, NOW)).as(String.valueOf(bad)).isEmpty();
        }
        for (int i = 0; i < 2000; i++) {
            char[] chars = good.toCharArray();
            chars[random.nextInt(chars.length)] = (char) (32 + random.nextInt(95));
            String mutated = new String(chars);
            if (mutated.equals(good)) continue;
            assertThat(signer.verify(mutated, TokenClaims.STREAM, NOW)).as(mutated).satisfiesAnyOf(
                    o -> assertThat(o).isEmpty(),
                    // base64 has several spellings of the same last bits; those decode to the same signed bytes
                    o -> assertThat(o).contains(claims));
        }
    }

    @Test
    void shouldRefuseShortKeysAndSeparatorsInFields() {
        assertThatThrownBy(() -> new TokenSigner(Arrays.copyOf(KEY, 31))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new TokenClaims(TokenClaims.LOGIN, "a|b", 1, "", NOW)).isInstanceOf(IllegalArgumentException.class);
    }
}
