package io.deskgate.control;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The rule of issue 9: off loopback, the control plane needs mutual TLS; {@link ControlPeers}' table. */
class ControlAddressesTest {
    @Test
    void shouldCountOnlyLocalhostAndLoopbackLiteralsAsLoopback() {
        for (String h : new String[] {"127.0.0.1", "127.1.2.3", "localhost", "LOCALHOST", "::1", "[::1]", "0:0:0:0:0:0:0:1"}) {
            assertThat(ControlAddresses.isLoopback(h)).as(h).isTrue();
        }
        for (String h : new String[] {"0.0.0.0", "::", "", "10.0.0.5", "192.168.1.2", "fe80::1", "broker.example", "localhost.example",
                "127.0.0.1.example", "999.1.1.1"}) {
            assertThat(ControlAddresses.isLoopback(h)).as(h).isFalse();
        }
    }

    @Test
    void shouldRefuseANonLoopbackListenerWithoutTlsInOneLine() {
        assertThat(ControlAddresses.refusal("broker bind-host", "127.0.0.1", false)).isEmpty();
        assertThat(ControlAddresses.refusal("broker bind-host", "10.0.0.5", true)).isEmpty();
        assertThat(ControlAddresses.refusal("broker bind-host", "10.0.0.5", false)).hasValueSatisfying(line -> assertThat(line)
                .startsWith("broker bind-host 10.0.0.5 is not loopback").contains("control.tls.ca", "deskgate ca issue").doesNotContain("\n"));
        assertThat(ControlAddresses.refusal("agent bind-host", "0.0.0.0", false)).isPresent();
        assertThatThrownBy(() -> ControlAddresses.requireTlsOffLoopback("engine bind-host", "", false))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("(all addresses) is not loopback");
    }

    /** The bearer token never goes to a network address in the clear; no socket is opened to find out. */
    @Test
    void shouldRefuseAPlaintextChannelToANonLoopbackTarget() {
        byte[] secret = new byte[ControlAuth.MIN_SECRET_BYTES];
        Arrays.fill(secret, (byte) 3);
        assertThatThrownBy(() -> ControlChannels.open("10.0.0.5:7000", new ControlAuth(secret)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("control target 10.0.0.5 is not loopback");
        assertThatThrownBy(() -> ControlChannels.openDirect("broker.example:7000", new ControlAuth(secret)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not loopback");
        ControlChannels.close(ControlChannels.open("localhost:7000", new ControlAuth(secret)), java.time.Duration.ofSeconds(5));
    }

    @Test
    void shouldAdmitEachServiceOnlyToTheRolesThatCallIt() {
        assertThat(ControlPeers.allowed("agent", "deskgate.v1.Concentrator/Report")).isTrue();
        assertThat(ControlPeers.allowed("broker", "deskgate.v1.Concentrator/Report")).isFalse();
        assertThat(ControlPeers.allowed("broker", "deskgate.v1.Concentrator/FindAvailable")).isTrue();
        assertThat(ControlPeers.allowed("agent", "deskgate.v1.Concentrator/FindAvailable")).isFalse();
        assertThat(ControlPeers.allowed("concentrator", "deskgate.v1.Agent/InitiateSession")).isTrue();
        assertThat(ControlPeers.allowed("broker", "deskgate.v1.Agent/ListDesktops")).isTrue();
        assertThat(ControlPeers.allowed("frontdoor", "deskgate.v1.Agent/ListDesktops")).isFalse();
        assertThat(ControlPeers.allowed("frontdoor", "deskgate.v1.Broker/FindDesktop")).isTrue();
        assertThat(ControlPeers.allowed("agent", "deskgate.v1.Broker/FindDesktop")).isFalse();
        assertThat(ControlPeers.allowed("frontdoor", "deskgate.v1.Engine/Launch")).isTrue();
        assertThat(ControlPeers.allowed("engine", "deskgate.v1.Engine/Launch")).isFalse();
        assertThat(ControlPeers.allowed("engine", "deskgate.v1.Future/Call")).as("a later service: any role of the cluster").isTrue();
        assertThat(ControlPeers.allowed("gateway", "deskgate.v1.Future/Call")).isFalse();
    }
}
