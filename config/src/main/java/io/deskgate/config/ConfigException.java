package io.deskgate.config;

/**
 * A config file that cannot be used. The message is one line for an operator: the file, and where known
 * the line, the section and the key ({@code deskgate.yaml line 7: gateway.max-sessions: ...}); never a
 * stack trace's worth of parser detail.
 */
public final class ConfigException extends RuntimeException {
    public ConfigException(String message) {
        super(message);
    }
}
