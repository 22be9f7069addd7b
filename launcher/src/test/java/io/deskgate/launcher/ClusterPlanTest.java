package io.deskgate.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.deskgate.store.StoreConfig;
import io.deskgate.testkit.Prerequisites;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What {@code deskgate up --cluster} runs (issue 9 item 6): the fleet's members, each config file valid for
 * {@code deskgate run} exactly as a member reads it, and the HAProxy config that HAProxy itself accepts.
 */
class ClusterPlanTest {
    @TempDir
    Path tmp;

    private ClusterPlan plan(int desktops, Optional<Path> pem) throws IOException {
        Path password = Files.writeString(tmp.resolve("pg-password"), "secret\n");
        Files.setPosixFilePermissions(password, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        StoreConfig store = StoreConfig.builder().url("jdbc:postgresql://127.0.0.1:5999/postgres").user("postgres")
                .passwordFile(password).build();
        return ClusterPlan.of(store, tmp.resolve("cluster"), "127.0.0.1", 8443, true, List.of(40001, 40002), desktops, pem);
    }

    @Test
    void shouldRunTwoOfEveryRoleAndTwoSetsOfTwoConcentratorsInStartOrder() throws IOException {
        ClusterPlan plan = plan(2, Optional.empty());

        assertThat(plan.members()).extracting(ClusterPlan.Member::id).containsExactly(
                "c1a", "c1b", "c2a", "c2b", "ag-1", "ag-2", "br-1", "br-2", "en-1", "en-2", "gw-1", "gw-2", "fd-1", "fd-2");
        assertThat(plan.of(RunCommand.RunRole.FRONTDOOR)).extracting(m -> m.fixedPort().orElseThrow()).containsExactly(40001, 40002);
        assertThat(plan.of(RunCommand.RunRole.ENGINE)).allMatch(m -> m.fixedPort().isEmpty());
    }

    @Test
    void shouldGiveEveryMemberAConfigThatRunAcceptsWithItsOwnIdDataAndTheSharedStore() throws IOException {
        ClusterPlan plan = plan(5, Optional.empty());

        for (ClusterPlan.Member m : plan.members()) {
            Path file = Files.writeString(tmp.resolve(m.id() + ".yaml"), m.config());
            RunCommand run = new RunCommand();
            run.role = m.role();
            run.config = file;
            RunCommand.Plan checked = run.plan();
            assertThat(checked.store().url()).isEqualTo("jdbc:postgresql://127.0.0.1:5999/postgres");
            assertThat(checked.options().data()).isEqualTo(tmp.resolve("cluster").resolve(m.id()));
            if (DeskgateConfigFile.SECTIONS_WITH_ID.contains(m.role().section())) {
                assertThat(checked.file().id(m.role().section())).isEqualTo(m.id());
            }
        }
    }

    @Test
    void shouldSplitTheDesktopsOverTheAgentsWithUsersAndUidsOfTheirOwn() throws IOException {
        ClusterPlan plan = plan(5, Optional.empty());
        List<String> agents = plan.of(RunCommand.RunRole.AGENT).stream().map(ClusterPlan.Member::config).toList();

        assertThat(agents.get(0)).contains("desktops: 3", "user-prefix: deskgate-ca", "first-uid: 65000", "last-uid: 65249");
        assertThat(agents.get(1)).contains("desktops: 2", "user-prefix: deskgate-cb", "first-uid: 65250", "last-uid: 65499");
        assertThatThrownBy(() -> plan(1, Optional.empty())).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("one per agent");
    }

    @Test
    void shouldServeOneCertificateFromEveryFrontdoorAndGatewayWhenTlsIsOn() throws IOException {
        Path pem = tmp.resolve("frontdoor.pem");
        ClusterPlan plan = plan(2, Optional.of(pem));

        List<String> withPem = plan.members().stream().filter(m -> m.config().contains("tls-pem: \"" + pem + "\""))
                .map(ClusterPlan.Member::id).toList();
        assertThat(withPem).containsExactly("gw-1", "gw-2", "fd-1", "fd-2");
        assertThat(plan.of(RunCommand.RunRole.GATEWAY)).extracting(ClusterPlan.Member::config)
                .allMatch(c -> c.contains("bind-host: \"127.0.0.1\""));
        assertThat(plan.of(RunCommand.RunRole.GATEWAY).get(1).config()).contains("ws-port: 8445");
    }

    @Test
    void shouldBalanceTheFrontdoorsByLeastConnectionsInAConfigHaproxyAccepts() throws Exception {
        String config = plan(2, Optional.empty()).haproxyConfig(Optional.of("haproxy"));

        assertThat(config).contains("mode tcp", "bind 127.0.0.1:8443", "balance leastconn",
                "server fd-1 127.0.0.1:40001 check", "server fd-2 127.0.0.1:40002 check", "user haproxy");
        assertThat(ClusterPlan.bindAddress("::1")).isEqualTo("[::1]");
        assertThat(ClusterPlan.bindAddress("0.0.0.0")).isEqualTo("*");

        Optional<Path> haproxy = List.of("/usr/sbin/haproxy", "/usr/bin/haproxy").stream().map(Path::of)
                .filter(Files::isExecutable).findFirst();
        if (haproxy.isEmpty()) {
            Prerequisites.missing("HAProxy (Debian's haproxy package; ./deskgate install-packages test installs it)");
            return;
        }
        // Without the user line, so that the check also passes where no haproxy user exists.
        Path file = Files.writeString(tmp.resolve("haproxy.cfg"), plan(2, Optional.empty()).haproxyConfig(Optional.empty()));
        Process check = new ProcessBuilder(haproxy.get().toString(), "-c", "-f", file.toString()).redirectErrorStream(true).start();
        String out = new String(check.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(check.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(check.exitValue()).as(out).isZero();
    }

    @Test
    void shouldQuoteEveryPathAndValueAsYamlStrings() {
        assertThat(ClusterPlan.quoted("/a b/\"c\"\\d")).isEqualTo("\"/a b/\\\"c\\\"\\\\d\"");
        assertThat(ClusterPlan.quoted("x\ny")).isEqualTo("\"x\\u000ay\"");
        assertThat(List.of("a", "b").stream().map(ClusterPlan::quoted).collect(Collectors.joining(","))).isEqualTo("\"a\",\"b\"");
    }
}
