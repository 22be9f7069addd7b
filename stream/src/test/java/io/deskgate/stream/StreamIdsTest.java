package io.deskgate.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.UUID;
import org.junit.jupiter.api.Test;

class StreamIdsTest {
    private static final UUID SESSION = UUID.fromString("00112233-4455-6677-8899-aabbccddeeff");
    private static final UUID INSTANCE_A = UUID.fromString("0f0e0d0c-0b0a-0908-0706-050403020100");
    private static final UUID INSTANCE_B = UUID.fromString("10000000-0000-4000-8000-000000000001");

    @Test
    void eachFurtherInstanceOfASessionHasItsOwnStreamIdBoundToTheSession() {
        UUID a = StreamIds.of(SESSION, INSTANCE_A);
        assertThat(a).isEqualTo(StreamIds.of(SESSION, INSTANCE_A)).isNotEqualTo(SESSION);
        assertThat(StreamIds.of(SESSION, INSTANCE_B)).isNotEqualTo(a);
        assertThat(StreamIds.of(INSTANCE_B, INSTANCE_A)).as("the same instance id under another session").isNotEqualTo(a);
        assertThat(a.version()).isEqualTo(8);
        assertThat(a.variant()).isEqualTo(2);
    }

    @Test
    void aTokenFieldNamesTheSessionsOwnStreamOrOneInstancesStream() {
        assertThat(StreamIds.parse(SESSION.toString())).isEqualTo(SESSION);
        assertThat(StreamIds.parse(StreamIds.name(SESSION, INSTANCE_A))).isEqualTo(StreamIds.of(SESSION, INSTANCE_A));
        for (String bad : new String[] {"", "x", SESSION + "/", "/" + INSTANCE_A, SESSION + "/" + INSTANCE_A + "/" + INSTANCE_B,
                "1-1-1-1-1", SESSION + "/1-1-1-1-1", SESSION.toString().toUpperCase()}) {
            assertThatThrownBy(() -> StreamIds.parse(bad)).as(bad).isInstanceOf(IllegalArgumentException.class);
        }
    }
}
