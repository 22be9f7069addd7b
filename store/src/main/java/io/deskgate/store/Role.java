package io.deskgate.store;

import java.util.Locale;

/** The roles that register in the {@code registry} table, each with its name there. */
public enum Role {
    FRONTDOOR, BROKER, CONCENTRATOR, AGENT, ENGINE, GATEWAY;

    /** The name in the {@code role} column: the constant in lower case. */
    public String sqlName() { return name().toLowerCase(Locale.ROOT); }

    static Role ofSqlName(String name) {
        return valueOf(name.toUpperCase(Locale.ROOT));
    }
}
