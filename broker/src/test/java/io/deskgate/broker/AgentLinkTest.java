package io.deskgate.broker;

import static org.assertj.core.api.Assertions.assertThat;

import io.deskgate.control.ControlAuth;
import io.grpc.Status;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class AgentLinkTest {
    @Test
    void shouldLogAnUnreachableAgentOnceUntilItAnswersAgain() {
        try (AgentLink link = new AgentLink("127.0.0.1:1", Duration.ofSeconds(1),
                new ControlAuth(FakeAgent.CONTROL_SECRET))) {
            assertThat(link.answered()).as("was never down").isFalse();
            assertThat(link.unreachable(Status.UNAVAILABLE)).isTrue();
            assertThat(link.unreachable(Status.DEADLINE_EXCEEDED)).isFalse();
            assertThat(link.answered()).isTrue();
            assertThat(link.unreachable(Status.UNAVAILABLE)).isTrue();
        }
    }

    @Test
    void shouldTellRefusalsFromSilence() {
        assertThat(AgentLink.isUnreachable(Status.UNAVAILABLE)).isTrue();
        assertThat(AgentLink.isUnreachable(Status.DEADLINE_EXCEEDED)).isTrue();
        assertThat(AgentLink.isUnreachable(Status.FAILED_PRECONDITION)).isFalse();
        assertThat(AgentLink.isUnreachable(Status.NOT_FOUND)).isFalse();
    }
}
