package io.deskgate.rfb;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.deskgate.common.DeskgateException;
import io.deskgate.common.ProtocolException;
import io.deskgate.common.Status;

/**
 * Untrusted server bytes: whatever arrives, only {@link ProtocolException} (or, during authentication, an
 * UNAUTHORIZED {@link DeskgateException}) may escape {@link RfbClient#receive}. Jazzer runs these as
 * regression tests in plain JUnit; set {@code JAZZER_FUZZ=1} to fuzz. See also {@link RfbMutationTest}.
 */
class RfbFuzzTest {
    /** A valid 3.8 handshake (security None) up to ServerInit of a 64x48 desktop. */
    private static final byte[] HANDSHAKE = RfbServerBytes.handshake(64, 48).toByteArray();

    /** Jazzer: arbitrary bytes after a valid handshake, fed in two fragments split where the data says. */
    @FuzzTest(maxDuration = "20s")
    void shouldOnlyThrowProtocolExceptionForArbitraryServerMessages(byte[] data) {
        RfbClient client = new RfbClient("", true, new EventLog());
        client.receive(HANDSHAKE, 0, HANDSHAKE.length);
        int split = data.length == 0 ? 0 : (data[0] & 0xFF) % (data.length + 1);
        try {
            client.receive(data, 0, split);
            client.receive(data, split, data.length - split);
        } catch (ProtocolException expected) {
            assertThat(expected.getMessage()).isNotBlank();
        }
    }

    /** A valid 3.8 handshake up to ServerInit of a 96x64 desktop, for a client asking for every encoding. */
    private static final byte[] HANDSHAKE_96X64 = RfbServerBytes.handshake(96, 64).toByteArray();

    /**
     * Jazzer: arbitrary bytes after a valid handshake for a client that asked for every encoding it decodes
     * (Tight, Hextile, the pseudo-encodings, Fence, ContinuousUpdates); seeded with the valid streams of
     * {@link RfbDecoderMutationTest}.
     */
    @FuzzTest(maxDuration = "20s")
    void shouldOnlyThrowProtocolExceptionForArbitraryMessagesInEveryEncoding(byte[] data) {
        RfbClient client = new RfbClient("", true, new EventLog(), RfbDecoderMutationTest.ALL);
        client.receive(HANDSHAKE_96X64, 0, HANDSHAKE_96X64.length);
        int split = data.length == 0 ? 0 : (data[0] & 0xFF) % (data.length + 1);
        try {
            client.receive(data, 0, split);
            client.receive(data, split, data.length - split);
        } catch (ProtocolException expected) {
            assertThat(expected.getMessage()).startsWith("RFB ");
        } finally {
            client.close();
        }
    }

    /** Jazzer: arbitrary bytes from the very first byte (handshake included), with a password set. */
    @FuzzTest(maxDuration = "10s")
    void shouldOnlyThrowProtocolOrAuthExceptionForArbitraryHandshakes(byte[] data) {
        RfbClient client = new RfbClient("pw", false, new EventLog());
        try {
            client.receive(data, 0, data.length);
        } catch (DeskgateException expected) {
            assertThat(expected).satisfiesAnyOf(
                    e -> assertThat(e).isInstanceOf(ProtocolException.class),
                    e -> assertThat(((DeskgateException) e).status()).isEqualTo(Status.UNAUTHORIZED));
        }
    }
}
