package io.deskgate.frontdoor;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.deskgate.tokens.TokenClaims;
import io.deskgate.tokens.TokenSigner;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Instant;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FrontdoorApiTest {
    @TempDir static Path dir;
    static FrontdoorFixture f;

    @BeforeAll
    static void start() throws Exception {
        f = new FrontdoorFixture(dir);
    }

    @AfterAll
    static void stop() throws Exception {
        if (f != null) f.close();
    }

    @Test
    void shouldServePlainHttpOnLoopback() {
        assertThat(f.url().getScheme()).isEqualTo("http");
        assertThat(f.url().getHost()).isEqualTo("127.0.0.1");
        assertThat(f.url().getPort()).isPositive();
    }

    @Test
    void loginSetsHttpOnlyStrictCookieAndReturnsUsername() throws Exception {
        HttpResponse<String> r = f.send("POST", "/api/login", "{\"username\":\"alice\",\"password\":\"alice-pw\"}", null);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(FrontdoorFixture.json(r).get("username").asText()).isEqualTo("alice");
        String cookie = r.headers().firstValue("Set-Cookie").orElseThrow();
        assertThat(cookie).startsWith("deskgate_login=v1.").contains("; HttpOnly").contains("; SameSite=Strict")
                .contains("; Path=/").contains("; Max-Age=" + 8 * 3600).doesNotContain("Secure");
        assertThat(r.headers().firstValue("Cache-Control")).contains("no-store");
    }

    @Test
    void unknownUserAndWrongPasswordGetTheSameAnswer() throws Exception {
        HttpResponse<String> wrongPassword = f.send("POST", "/api/login", "{\"username\":\"alice\",\"password\":\"nope\"}", null);
        HttpResponse<String> unknownUser = f.send("POST", "/api/login", "{\"username\":\"mallory\",\"password\":\"nope\"}", null);
        assertThat(wrongPassword.statusCode()).isEqualTo(401);
        assertThat(unknownUser.statusCode()).isEqualTo(401);
        assertThat(wrongPassword.body()).isEqualTo(unknownUser.body())
                .isEqualTo("{\"error\":\"invalid username or password\",\"status\":\"UNAUTHORIZED\"}");
        assertThat(wrongPassword.headers().firstValue("Set-Cookie")).isEmpty();
        assertThat(unknownUser.headers().firstValue("Set-Cookie")).isEmpty();
    }

    @Test
    void malformedOrOversizedLoginIsBadRequest() throws Exception {
        for (String body : new String[] {"{not json", "[1,2]", "{\"username\":5,\"password\":\"x\"}", "{\"username\":\"alice\"}"}) {
            HttpResponse<String> r = f.send("POST", "/api/login", body, null);
            assertThat(r.statusCode()).as(body).isEqualTo(400);
            assertThat(FrontdoorFixture.json(r).get("status").asText()).isEqualTo("BAD_REQUEST");
        }
        String huge = "{\"username\":\"alice\",\"password\":\"" + "x".repeat(17 * 1024) + "\"}";
        HttpResponse<String> r = f.send("POST", "/api/login", huge, null);
        assertThat(r.statusCode()).isEqualTo(400);
        assertThat(FrontdoorFixture.json(r).get("error").asText()).contains("larger than 16384 bytes");
    }

    @Test
    void meNeedsAValidLoginCookie() throws Exception {
        HttpResponse<String> anonymous = f.send("GET", "/api/me", null, null);
        assertThat(anonymous.statusCode()).isEqualTo(401);
        assertThat(FrontdoorFixture.json(anonymous).get("status").asText()).isEqualTo("UNAUTHORIZED");

        String cookie = f.login("alice", "alice-pw");
        HttpResponse<String> me = f.send("GET", "/api/me", null, cookie);
        assertThat(me.statusCode()).isEqualTo(200);
        JsonNode body = FrontdoorFixture.json(me);
        assertThat(body.get("username").asText()).isEqualTo("alice");
        assertThat(body.get("admin").asBoolean()).isFalse();
    }

    @Test
    void expiredTamperedOrStreamTokensAreRejectedAsLoginCookie() throws Exception {
        TokenSigner signer = new TokenSigner(f.tokenKey);
        String expired = signer.sign(new TokenClaims(TokenClaims.LOGIN, "alice", 1, "", Instant.now().minusSeconds(1)));
        String stream = signer.sign(new TokenClaims(TokenClaims.STREAM, "alice", 1, "s", Instant.now().plusSeconds(60)));
        String valid = f.login("alice", "alice-pw").substring("deskgate_login=".length());
        String tampered = valid.substring(0, valid.length() - 2) + (valid.endsWith("A") ? "BB" : "AA");
        String forged = new TokenSigner(new byte[32]).sign(
                new TokenClaims(TokenClaims.LOGIN, "alice", 1, "", Instant.now().plusSeconds(60)));
        for (String token : new String[] {expired, stream, tampered, forged, "garbage"}) {
            HttpResponse<String> r = f.send("GET", "/api/me", null, "deskgate_login=" + token);
            assertThat(r.statusCode()).as(token).isEqualTo(401);
        }
    }

    @Test
    void everyApiRouteButLoginNeedsLogin() throws Exception {
        assertThat(f.send("GET", "/api/desktops", null, null).statusCode()).isEqualTo(401);
        assertThat(f.send("POST", "/api/sessions", "{}", null).statusCode()).isEqualTo(401);
        assertThat(f.send("POST", "/api/logout", null, null).statusCode()).isEqualTo(401);
        assertThat(f.send("DELETE", "/api/sessions/00000000-0000-0000-0000-000000000000", null, null).statusCode())
                .isEqualTo(401);
        assertThat(f.control.finds).isEmpty();
    }

    @Test
    void logoutClearsTheCookie() throws Exception {
        String cookie = f.login("bob", "bob-pw");
        HttpResponse<String> r = f.send("POST", "/api/logout", null, cookie);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Set-Cookie").orElseThrow()).startsWith("deskgate_login=;").contains("Max-Age=0");
    }

    @Test
    void servesTheWebClientWithSecurityHeaders() throws Exception {
        HttpResponse<String> index = f.send("GET", "/", null, null);
        assertThat(index.statusCode()).isEqualTo(200);
        assertThat(index.body()).contains("id=\"username\"").contains("id=\"screen\"").contains("js/app.js");
        assertThat(index.headers().firstValue("Content-Type").orElseThrow()).startsWith("text/html");
        assertSecurityHeaders(index);
        HttpResponse<String> js = f.send("GET", "/js/protocol.js", null, null);
        assertThat(js.statusCode()).isEqualTo(200);
        assertThat(js.headers().firstValue("Content-Type").orElseThrow()).contains("javascript");
        assertSecurityHeaders(js);
        assertSecurityHeaders(f.send("GET", "/api/me", null, null));
        assertThat(index.headers().firstValue("Strict-Transport-Security")).isEmpty();
    }

    private static void assertSecurityHeaders(HttpResponse<String> r) {
        String csp = r.headers().firstValue("Content-Security-Policy").orElseThrow();
        assertThat(csp).contains("script-src 'self'").contains("frame-ancestors 'none'")
                .contains("connect-src 'self' " + f.gatewayWs.substring(0, f.gatewayWs.indexOf("/stream")));
        assertThat(r.headers().firstValue("X-Content-Type-Options")).contains("nosniff");
        assertThat(r.headers().firstValue("Referrer-Policy")).contains("no-referrer");
    }
}
