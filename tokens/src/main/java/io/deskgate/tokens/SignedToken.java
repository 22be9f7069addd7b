package io.deskgate.tokens;

/**
 * A token that verified: its claims and its id, the random nonce the signer put in it. The id names
 * the token whatever its text: a single-use check spends the id, never the string it arrived as.
 *
 * @param claims what the token says
 * @param id     the token's nonce, unique per signed token (base64url, 1 to 64 characters)
 */
public record SignedToken(TokenClaims claims, String id) {
    public SignedToken {
        if (claims == null || id == null || id.isEmpty()) throw new IllegalArgumentException("claims and id are required");
    }
}
