package io.deskgate.broker;

import static io.deskgate.broker.DesktopChooserTest.desktop;
import static org.assertj.core.api.Assertions.assertThat;

import io.deskgate.control.Desktop;
import io.deskgate.control.DesktopState;
import io.deskgate.control.PoolScope;
import java.util.List;
import org.junit.jupiter.api.Test;

class PoolScopesTest {
    static final Desktop A1 = desktop("agent-a/1", DesktopState.AVAILABLE, "");
    static final Desktop A2 = desktop("agent-a/2", DesktopState.DISCONNECTED, "alice");
    static final Desktop B1 = desktop("agent-b/1", DesktopState.IN_USE, "alice").toBuilder().addLabels("gpu").build();
    static final Desktop C1 = desktop("agent-c/1", DesktopState.AVAILABLE, "").toBuilder().addLabels("cpu").build();

    @Test
    void shouldHoldTheDesktopsOfItsAgentsAndOfAgentsCarryingItsLabels() {
        PoolScope scope = PoolScope.newBuilder().addAgents("agent-a").addLabels("gpu").build();
        assertThat(PoolScopes.inScope(scope, List.of(A1, A2, B1, C1))).containsExactly(A1, A2, B1);
        assertThat(PoolScopes.inScope(PoolScope.getDefaultInstance(), List.of(A1, B1))).as("an empty pool holds nothing").isEmpty();
        assertThat(PoolScopes.holds(PoolScope.newBuilder().addAgents("agent").build(), A1)).as("agent ids compare whole").isFalse();
    }

    @Test
    void shouldCountTheUsersDesktopsOutsideThePoolForTheLimit() {
        PoolScope onlyA = PoolScope.newBuilder().addAgents("agent-a").build();
        assertThat(PoolScopes.heldOutside(onlyA, List.of(A1, A2, B1, C1), DesktopChooserTest.T1, "alice")).isEqualTo(1);
        assertThat(PoolScopes.heldOutside(onlyA, List.of(A1, A2, B1, C1), DesktopChooserTest.T2, "alice"))
                .as("another tenant's alice holds nothing").isZero();
    }
}
