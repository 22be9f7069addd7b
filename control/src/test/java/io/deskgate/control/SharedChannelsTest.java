package io.deskgate.control;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.deskgate.common.Secrets;
import io.grpc.ManagedChannel;
import org.junit.jupiter.api.Test;

/** {@link SharedChannels}: one channel per target for every user of the process, shut down with its last user. */
class SharedChannelsTest {
    private final SharedChannels channels = new SharedChannels(new ControlAuth(Secrets.randomBytes(32)));

    @Test
    void shouldHandEveryUserOfATargetTheSameChannelAndShutItDownWithTheLast() {
        ManagedChannel a = channels.acquire("127.0.0.1:7001");
        ManagedChannel b = channels.acquire("127.0.0.1:7001");
        ManagedChannel other = channels.acquire("127.0.0.1:7002");

        assertThat(b).isSameAs(a);
        assertThat(other).isNotSameAs(a);
        assertThat(channels.open()).isEqualTo(2);
        channels.release("127.0.0.1:7001", a);
        assertThat(a.isShutdown()).as("one user left").isFalse();
        channels.release("127.0.0.1:7001", b);
        assertThat(a.isShutdown()).as("the last user released it").isTrue();
        assertThat(channels.open()).isEqualTo(1);
        ManagedChannel again = channels.acquire("127.0.0.1:7001");
        assertThat(again).as("a new one for the next user").isNotSameAs(a);
        channels.release("127.0.0.1:7001", again);
        channels.release("127.0.0.1:7002", other);
        assertThat(other.isShutdown()).isTrue();
    }

    @Test
    void shouldRefuseATargetOffLoopbackWithoutTls() {
        assertThatThrownBy(() -> channels.acquire("10.1.2.3:7001")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> channels.acquire("no-port")).isInstanceOf(IllegalArgumentException.class);
        assertThat(channels.open()).isZero();
    }
}
