package io.deskgate.frontdoor;

import java.sql.SQLException;
import java.sql.SQLNonTransientConnectionException;
import java.sql.SQLTransientConnectionException;

/** Tells a store that cannot be reached from a query that failed. Pure; thread-safe. */
final class StoreFailures {
    private StoreFailures() {}

    /**
     * Whether {@code e} (or a cause) says the store is unreachable: no pooled connection in time, a
     * connection failure (SQL state class 08), a server shutting down or starting (57P01-57P03), or a statement
     * cancelled by its query timeout (57014: the store did not answer in time).
     */
    static boolean isUnavailable(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof SQLTransientConnectionException || t instanceof SQLNonTransientConnectionException) return true;
            if (t instanceof SQLException s && s.getSQLState() != null
                    && (s.getSQLState().startsWith("08") || s.getSQLState().matches("57P0[123]|57014"))) {
                return true;
            }
        }
        return false;
    }
}
