package io.deskgate.frontdoor;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class PasswordHasherTest {
    private final PasswordHasher hasher = new PasswordHasher();

    @Test
    void shouldHashWithArgon2idInPhcFormatAndVerify() {
        String phc = hasher.hash("correct horse");
        assertThat(phc).startsWith("$argon2id$v=19$m=19456,t=2,p=1$");
        assertThat(hasher.verify("correct horse", phc)).isTrue();
        assertThat(hasher.verify("correct horse!", phc)).isFalse();
    }

    @Test
    void shouldSaltEveryHash() {
        assertThat(hasher.hash("same")).isNotEqualTo(hasher.hash("same"));
    }

    @Test
    void shouldVerifyAHashMadeByTheReferenceArgon2Implementation() {
        // `echo -n password | argon2 somesaltsomesalt -id -t 2 -k 64 -p 1 -l 32 -e` (Debian package argon2)
        String reference = "$argon2id$v=19$m=64,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$Gpj7qOY5RCXJvcMzqcdQqvgR3wcPX7SleI4c9NtXk6E";
        assertThat(hasher.verify("password", reference)).as("parameters are read from the hash").isTrue();
        assertThat(hasher.verify("passwore", reference)).isFalse();
    }

    @Test
    void shouldRejectMalformedAndAbusiveHashes() {
        for (String bad : new String[] {"", "$argon2i$v=19$m=64,t=3,p=1$c29tZXNhbHQ$AAAA", "$argon2id$v=16$m=64,t=3,p=1$c29tZXNhbHQ$AAAA",
                "$argon2id$v=19$m=99999999,t=3,p=1$c29tZXNhbHQ$AAAA", "$argon2id$v=19$m=64,t=3$c29tZXNhbHQ$AAAA",
                "$argon2id$v=19$m=64,t=3,p=1$!!$AAAA", "plain"}) {
            assertThat(hasher.verify("password", bad)).as(bad).isFalse();
        }
    }
}
