package io.deskgate.tokens;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
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
            // one spelling only: no other text verifies, not even one that decodes to the same bytes
            assertThat(signer.verify(mutated, TokenClaims.STREAM, NOW)).as(mutated).isEmpty();
        }
    }

    @Test
    void shouldRejectEveryRespellingOfAValidToken() {
        for (TokenClaims c : new TokenClaims[] {claims,
                new TokenClaims(TokenClaims.LOGIN, "alice", 1, "", NOW.plusSeconds(3600))}) {
            String token = signer.sign(c);
            assertThat(signer.verify(token, c.kind(), NOW)).contains(c);
            List<String> respellings = respellings(token);
            // the MAC (32 bytes) has 2 unused trailing bits: at least 3 other last characters and 2 paddings
            assertThat(respellings).as("re-spellings of " + c.kind()).hasSizeGreaterThanOrEqualTo(5);
            for (String respelt : respellings) {
                assertThat(signer.verify(respelt, c.kind(), NOW)).as(respelt).isEmpty();
            }
        }
    }

    @Test
    void shouldGiveEachTokenItsNonceAsItsId() {
        String a = signer.sign(claims);
        String b = signer.sign(claims);
        String idA = signer.open(a, TokenClaims.STREAM, NOW).orElseThrow().id();
        assertThat(idA).isNotEqualTo(signer.open(b, TokenClaims.STREAM, NOW).orElseThrow().id());
        TokenClaims login = new TokenClaims(TokenClaims.LOGIN, "admin", 1, "", Instant.ofEpochSecond(1_800_000_000L));
        assertThat(signer.open(signer.sign(login, "bm9uY2U"), TokenClaims.LOGIN, NOW).orElseThrow().id()).isEqualTo("bm9uY2U");
    }

    @Test
    void shouldDecodeOnlyCanonicalBase64Url() {
        assertThat(TokenSigner.decodeCanonical("AQ")).hasValueSatisfying(b -> assertThat(b).containsExactly(1));
        for (String bad : new String[] {"", "A", "AR", "AQ=", "AQ==", "+w", "/w", "A Q", "AQ\n", "AQé"}) {
            assertThat(TokenSigner.decodeCanonical(bad)).as(bad).isEmpty();
        }
        assertThat(TokenSigner.decodeCanonical("-w")).hasValueSatisfying(b -> assertThat(b).containsExactly(0xfb));
    }

    /**
     * Texts a lenient decoder reads as the same token: each part with its last character swapped for one
     * that decodes to the same bytes, with '=' padding added, and with '-'/'_' spelt '+'/'/'.
     */
    static List<String> respellings(String token) {
        String[] parts = token.split("\\.");
        List<String> out = new ArrayList<>();
        String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        for (int p = 1; p <= 2; p++) {
            String part = parts[p];
            byte[] decoded = Base64.getUrlDecoder().decode(part);
            for (char c : alphabet.toCharArray()) {
                String alt = part.substring(0, part.length() - 1) + c;
                if (alt.equals(part) || !Arrays.equals(Base64.getUrlDecoder().decode(alt), decoded)) continue;
                out.add(with(parts, p, alt));
            }
            out.add(with(parts, p, part + "="));
            out.add(with(parts, p, part + "=".repeat((4 - part.length() % 4) % 4)));
            if (part.contains("-") || part.contains("_")) out.add(with(parts, p, part.replace('-', '+').replace('_', '/')));
        }
        out.removeIf(token::equals);
        return out;
    }

    private static String with(String[] parts, int index, String part) {
        String[] copy = parts.clone();
        copy[index] = part;
        return String.join(".", copy);
    }

    @FuzzTest(maxDuration = "10s")
    void fuzzVerifyNeverThrowsAndAcceptsOnlyTheSignedText(String input) {
        Optional<SignedToken> opened = signer.open(input, TokenClaims.STREAM, NOW);
        if (opened.isPresent() && !input.equals(signer.sign(opened.get().claims(), opened.get().id()))) {
            throw new AssertionError("a text other than the signed one verified: " + input);
        }
    }

    @Test
    void shouldRefuseShortKeysAndSeparatorsInFields() {
        assertThatThrownBy(() -> new TokenSigner(Arrays.copyOf(KEY, 31))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new TokenClaims(TokenClaims.LOGIN, "a|b", 1, "", NOW)).isInstanceOf(IllegalArgumentException.class);
    }
}
