package io.deskgate.agent;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import org.junit.jupiter.api.Test;

/**
 * Which ends of a report stream {@link ConcentratorLinks} logs as one process-wide line (its concentrator went
 * away) and which per agent (a refusal of this agent: a real error must not be folded into the summary).
 */
class ConcentratorLinksGoneTest {
    @Test
    void aConcentratorClosedOrUnreachableIsGone() {
        assertThat(ConcentratorLinks.concentratorGone(Status.Code.CANCELLED)).isTrue();
        assertThat(ConcentratorLinks.concentratorGone(Status.Code.UNAVAILABLE)).isTrue();
    }

    @Test
    void aRefusalIsNotFoldedIntoTheSummary() {
        for (Status.Code c : new Status.Code[] {Status.Code.INVALID_ARGUMENT, Status.Code.UNAUTHENTICATED,
                Status.Code.PERMISSION_DENIED, Status.Code.ALREADY_EXISTS, Status.Code.INTERNAL, Status.Code.RESOURCE_EXHAUSTED}) {
            assertThat(ConcentratorLinks.concentratorGone(c)).as(c.name()).isFalse();
        }
    }
}
