package io.deskgate.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The reader's contract on a builder shaped like the roles' (fluent, defaults held, secrets not keys). */
class ConfigSectionTest {

    /** A builder like a role's: fluent setters named like the components, a Duration key over a ns field. */
    static final class Sample {
        int port = 8443;
        String bindHost = "127.0.0.1";
        long timeoutNs = 30_000_000_000L;
        byte[] secret = new byte[0];
        List<String> programs = List.of("twm");
        Path home = Path.of("/home");
        double ratio = 0.5;
        boolean lossy = true;
        Mode mode = Mode.AUTO;

        @JsonProperty Sample port(int p) { port = p; return this; }
        @JsonProperty Sample bindHost(String h) { bindHost = h; return this; }
        @JsonProperty Sample timeout(Duration d) { return timeoutNs(d.toNanos()); }
        Sample timeoutNs(long ns) {
            if (ns <= 0) throw new IllegalArgumentException("timeout must be positive");
            timeoutNs = ns;
            return this;
        }
        @JsonIgnore Sample secret(byte[] s) { secret = s; return this; }
        @JsonProperty Sample programs(List<String> p) { programs = List.copyOf(p); return this; }
        @JsonProperty Sample home(Path h) { home = h; return this; }
        @JsonProperty Sample ratio(double r) { ratio = r; return this; }
        @JsonProperty Sample lossy(boolean l) { lossy = l; return this; }
        @JsonProperty Sample mode(Mode m) { mode = m; return this; }
    }

    enum Mode { AUTO, TURBO }

    @Test
    void shouldReadAnEnumByItsNameOnlyNeverByItsPosition() {
        assertThat(apply("role:\n  mode: TURBO\n").mode).isEqualTo(Mode.TURBO);
        assertThatThrownBy(() -> apply("role:\n  mode: 1\n")).isInstanceOf(ConfigException.class).hasMessageContaining("mode");
    }

    private static Sample apply(String yaml) {
        return ConfigFile.parse("test.yaml", yaml).section("role").applyTo(new Sample());
    }

    @Test
    void shouldApplyOnlyTheGivenKeysOntoTheBuildersValues() {
        Sample s = apply("""
                role:
                  port: 9000
                  timeout: 500ms
                  programs: [openbox, "xterm -fa Mono"]
                  home: /srv/home
                """);
        assertThat(s.port).isEqualTo(9000);
        assertThat(s.timeoutNs).isEqualTo(500_000_000L);
        assertThat(s.programs).containsExactly("openbox", "xterm -fa Mono");
        assertThat(s.home).isEqualTo(Path.of("/srv/home"));
        assertThat(s.bindHost).as("a key not in the file keeps the builder's value").isEqualTo("127.0.0.1");
        assertThat(s.ratio).isEqualTo(0.5);
        assertThat(s.lossy).isTrue();
    }

    @Test
    void shouldDeriveKebabKeysFromAnnotatedMethodsOnly() {
        assertThat(ConfigSection.keys(Sample.class)).containsExactly("bind-host", "home", "lossy", "mode", "port", "programs", "ratio",
                "timeout");
    }

    @Test
    void shouldRefuseAnUnknownKeyNamingItItsSectionAndLine() {
        assertThatThrownBy(() -> apply("role:\n  port: 1\n  max-sesions: 3\n"))
                .isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("test.yaml line 3: role.max-sesions: unknown key in section 'role'")
                .hasMessageContaining("bind-host");
    }

    @Test
    void shouldRefuseASecretOrANsFieldAsAKey() {
        assertThatThrownBy(() -> apply("role:\n  secret: abc\n")).hasMessageContaining("role.secret: unknown key");
        assertThatThrownBy(() -> apply("role:\n  timeout-ns: 5\n")).hasMessageContaining("role.timeout-ns: unknown key");
    }

    @Test
    void shouldRefuseWrongTypesWithoutCoercing() {
        assertThatThrownBy(() -> apply("role:\n  port: many\n"))
                .hasMessage("test.yaml line 2: role.port: expected a whole number, got value (many)");
        assertThatThrownBy(() -> apply("role:\n  port: \"8443\"\n")).hasMessageContaining("role.port: expected a whole number");
        assertThatThrownBy(() -> apply("role:\n  port: 84.5\n")).hasMessageContaining("role.port: expected a whole number");
        assertThatThrownBy(() -> apply("role:\n  port:\n")).hasMessageContaining("role.port: has no value");
        assertThatThrownBy(() -> apply("role:\n  home:\n")).hasMessageContaining("role.home: has no value");
        assertThatThrownBy(() -> apply("role:\n  lossy: 3\n")).hasMessageContaining("role.lossy: expected true or false");
        assertThatThrownBy(() -> apply("role:\n  programs: xterm\n")).hasMessageContaining("role.programs: expected a list");
    }

    @Test
    void shouldReadDurationsWithUnitsOrIso8601AndRefuseNegativeOrBareOnes() {
        assertThat(apply("role:\n  timeout: 2m\n").timeoutNs).isEqualTo(120_000_000_000L);
        assertThat(apply("role:\n  timeout: 8h\n").timeoutNs).isEqualTo(Duration.ofHours(8).toNanos());
        assertThat(apply("role:\n  timeout: 1d\n").timeoutNs).isEqualTo(Duration.ofDays(1).toNanos());
        assertThat(apply("role:\n  timeout: PT1.5S\n").timeoutNs).isEqualTo(1_500_000_000L);
        assertThatThrownBy(() -> apply("role:\n  timeout: -5s\n"))
                .hasMessageStartingWith("test.yaml line 2: role.timeout: ").hasMessageContaining("negative");
        assertThatThrownBy(() -> apply("role:\n  timeout: PT-5S\n")).hasMessageContaining("role.timeout: ").hasMessageContaining("negative");
        assertThatThrownBy(() -> apply("role:\n  timeout: 30\n")).hasMessageContaining("role.timeout: not a duration");
        assertThatThrownBy(() -> apply("role:\n  timeout: 0s\n")).hasMessageContaining("role.timeout: timeout must be positive");
    }

    @Test
    void shouldNameTheKeyAndLineOfABuildFailure() {
        ConfigSection section = ConfigFile.parse("test.yaml", "role:\n  bind-host: x\n  port: 70000\n").section("role");
        ConfigException e = section.invalid(new IllegalArgumentException("port 70000 is out of range 0-65535"));
        assertThat(e).hasMessage("test.yaml line 3: role.port: port 70000 is out of range 0-65535");
    }

    @Test
    void shouldSkipSubsectionsAndRefuseAScalarWhereASectionBelongs() {
        ConfigFile f = ConfigFile.parse("test.yaml", "role:\n  port: 2\n  nested:\n    port: 3\n");
        assertThat(f.section("role").applyTo(new Sample(), "nested").port).isEqualTo(2);
        assertThat(f.section("role.nested").applyTo(new Sample()).port).isEqualTo(3);
        assertThat(f.section("other").present()).isFalse();
        assertThatThrownBy(() -> ConfigFile.parse("test.yaml", "role: 3\n").section("role"))
                .hasMessage("test.yaml line 1: role must be a section (a mapping of keys), not a value (3)");
    }

    @Test
    void shouldRefuseUnknownSectionsDuplicatesAndMalformedYamlInOneLine() {
        assertThatThrownBy(() -> ConfigFile.parse("test.yaml", "role: {}\ngatway: {}\n").requireOnly(Set.of("role", "gateway")))
                .hasMessage("test.yaml line 2: unknown section 'gatway' (known: gateway, role)");
        assertThatThrownBy(() -> ConfigFile.parse("test.yaml", "role:\n  port: 1\n  port: 2\n"))
                .hasMessageStartingWith("test.yaml line 3: not valid YAML: ").hasMessageContaining("port").hasMessageNotContaining("\n");
        assertThatThrownBy(() -> ConfigFile.parse("test.yaml", "role:\n  port: [1\n"))
                .hasMessageStartingWith("test.yaml line ").hasMessageContaining("not valid YAML").hasMessageNotContaining("\n");
        assertThatThrownBy(() -> ConfigFile.parse("test.yaml", "- a\n- b\n")).hasMessageContaining("must be a mapping of sections");
        assertThat(ConfigFile.parse("test.yaml", "# nothing yet\n").section("role").present()).isFalse();
    }

    @Test
    void shouldRefuseAMissingOrOversizedFile(@TempDir Path dir) throws IOException {
        Path missing = dir.resolve("nope.yaml");
        assertThatThrownBy(() -> ConfigFile.read(missing)).hasMessage("config file " + missing + " does not exist");
        assertThatThrownBy(() -> ConfigFile.read(dir)).hasMessage("config file " + dir + " is a directory");
        Path big = Files.write(dir.resolve("big.yaml"), new byte[ConfigFile.MAX_BYTES + 1]);
        assertThatThrownBy(() -> ConfigFile.read(big)).hasMessageContaining("is larger than " + ConfigFile.MAX_BYTES + " bytes");
        Path ok = Files.writeString(dir.resolve("ok.yaml"), "role:\n  port: 7\n");
        assertThat(ConfigFile.read(ok).section("role").applyTo(new Sample()).port).isEqualTo(7);
        assertThat(ConfigFile.parse("t.yaml", "data: /srv/dg\n").text("data")).contains("/srv/dg");
    }
}
