package io.deskgate.frontdoor;

import static org.assertj.core.api.Assertions.assertThat;

import io.deskgate.common.DeskgateException;
import io.deskgate.common.Status;
import java.sql.SQLException;
import org.junit.jupiter.api.Test;

class StoreFailuresTest {
    private static DeskgateException wrapped(String sqlState) {
        return new DeskgateException(Status.INTERNAL_ERROR, "store query failed", new SQLException("x", sqlState));
    }

    @Test
    void shouldReadAStatementCancelledByItsTimeoutAsAStoreThatDidNotAnswer() {
        assertThat(StoreFailures.isUnavailable(wrapped("57014"))).isTrue();
        assertThat(StoreFailures.isUnavailable(wrapped("08006"))).isTrue();
        assertThat(StoreFailures.isUnavailable(wrapped("57P01"))).isTrue();
        assertThat(StoreFailures.isUnavailable(wrapped("23505"))).as("a unique violation is the caller's").isFalse();
    }
}
