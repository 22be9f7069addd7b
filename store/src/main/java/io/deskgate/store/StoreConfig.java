package io.deskgate.store;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Where an external store is and how to log in to it: the config file's {@code store} section
 * (docs/configuration.md). Immutable; validated when built. The password itself is never here: only where
 * to read it ({@link StorePassword}), a file only its owner can read or an environment variable, so that it
 * is never on a command line nor in the config file.
 *
 * @param url          {@code jdbc:postgresql://host:port/database[?options]}, without user or password
 * @param user         the database role to log in as
 * @param passwordFile a file holding the password on its first line (owner-only, {@code 0600} or {@code 0400})
 * @param passwordEnv  the name of an environment variable holding the password; exactly one of the two is set
 */
public record StoreConfig(String url, String user, Optional<Path> passwordFile, Optional<String> passwordEnv) {
    public StoreConfig {
        Objects.requireNonNull(passwordFile, "passwordFile");
        Objects.requireNonNull(passwordEnv, "passwordEnv");
        if (url == null || url.isBlank()) throw new IllegalArgumentException("url is required (jdbc:postgresql://host:port/database)");
        if (!url.startsWith("jdbc:postgresql://")) {
            throw new IllegalArgumentException("url must start with jdbc:postgresql:// (a PostgreSQL JDBC URL)");
        }
        try {
            Database.requireCredentialFree(url);
        } catch (io.deskgate.common.DeskgateException e) {
            throw new IllegalArgumentException("url must not carry a user or password: give user here and the password in"
                    + " password-file or password-env");
        }
        if (user == null || user.isBlank()) throw new IllegalArgumentException("user is required");
        if (passwordFile.isPresent() == passwordEnv.isPresent()) {
            throw new IllegalArgumentException("give exactly one of password-file and password-env (the password is never"
                    + " in the config file nor on the command line)");
        }
        if (passwordEnv.isPresent() && !passwordEnv.get().matches("[A-Za-z_][A-Za-z0-9_]{0,127}")) {
            throw new IllegalArgumentException("password-env must name an environment variable: " + passwordEnv.get());
        }
    }

    public static Builder builder() { return new Builder(); }

    /**
     * The password, from the file or from {@code env} (the process's: {@code System.getenv()}).
     *
     * @throws io.deskgate.common.DeskgateException naming the file or variable and what is wrong (never the value)
     */
    public String password(Map<String, String> env) {
        return passwordFile.map(StorePassword::fromFile).orElseGet(() -> StorePassword.fromEnvironment(env, passwordEnv.orElseThrow()));
    }

    /**
     * Builds a {@link StoreConfig}; the methods marked {@code @JsonProperty} are the keys of the {@code store}
     * section. No defaults: {@code url}, {@code user} and one password source are required.
     */
    public static final class Builder {
        private String url = "";
        private String user = "";
        private Optional<Path> passwordFile = Optional.empty();
        private Optional<String> passwordEnv = Optional.empty();

        private Builder() {}

        @JsonProperty public Builder url(String jdbcUrl) { url = Objects.requireNonNull(jdbcUrl); return this; }

        @JsonProperty public Builder user(String name) { user = Objects.requireNonNull(name); return this; }

        @JsonProperty public Builder passwordFile(Path file) { passwordFile = Optional.of(file); return this; }

        @JsonProperty public Builder passwordEnv(String variable) { passwordEnv = Optional.of(variable); return this; }

        /** @throws IllegalArgumentException naming the key that is missing or wrong */
        public StoreConfig build() {
            return new StoreConfig(url, user, passwordFile, passwordEnv);
        }
    }
}
