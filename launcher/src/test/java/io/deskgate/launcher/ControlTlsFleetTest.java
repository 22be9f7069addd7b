package io.deskgate.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.deskgate.concentrator.Concentrator;
import io.deskgate.concentrator.ConcentratorConfig;
import io.deskgate.config.ConfigException;
import io.deskgate.control.ConcentratorGrpc;
import io.deskgate.control.ControlAuth;
import io.deskgate.control.ControlChannels;
import io.deskgate.control.ControlTls;
import io.deskgate.control.EngineGrpc;
import io.deskgate.control.FindAvailableRequest;
import io.deskgate.control.TallyRequest;
import io.deskgate.engine.Engine;
import io.deskgate.store.Database;
import io.deskgate.store.RegistryEntry;
import io.deskgate.store.RegistryTiming;
import io.deskgate.tls.ClusterCa;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 9 through the launcher: roles started by {@link RoleRunner} from a config file whose sections name
 * {@code control.tls} serve mutual TLS at the address they register; a plaintext caller holding the fleet's
 * control secret is refused, a caller with a certificate of the right role served, one of another role denied.
 */
class ControlTlsFleetTest {
    private static final RegistryTiming TIMING = RegistryTiming.builder().heartbeatInterval(Duration.ofMillis(200))
            .timeout(Duration.ofSeconds(1)).build();
    @TempDir Path dir;
    private final List<AutoCloseable> resources = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable r : resources.reversed()) r.close();
    }

    private <T extends AutoCloseable> T own(T r) {
        resources.add(r);
        return r;
    }

    private String section(ClusterCa ca, String role) {
        ClusterCa.RoleFiles f = ClusterCa.write(ca.issue(role, role, List.of("127.0.0.1"), Instant.now(), ClusterCa.ROLE_VALIDITY),
                role, dir.resolve(role));
        return role + ":\n  bind-host: 127.0.0.1\n  control:\n    tls:\n      ca: " + f.ca() + "\n      cert: " + f.cert()
                + "\n      key: " + f.key() + "\n";
    }

    private ControlAuth caller(ClusterCa ca, String role) {
        ClusterCa.RoleFiles f = ClusterCa.write(ca.issue(role, role + "-caller", List.of("localhost"), Instant.now(),
                ClusterCa.ROLE_VALIDITY), role, dir.resolve("caller-" + role));
        return ControlAuth.mutualTls(ControlTls.load(new ControlTls.Files(f.ca(), f.cert(), f.key()), Instant.now()));
    }

    private static <T> T closing(ManagedChannel channel, java.util.function.Function<ManagedChannel, T> call) {
        try {
            return call.apply(channel);
        } finally {
            ControlChannels.close(channel, Duration.ofSeconds(10));
        }
    }

    @Test
    void shouldServeMutualTlsAtTheRegisteredAddressOfRolesWhoseSectionNamesControlTls() throws Exception {
        ClusterCa ca = ClusterCa.initOrLoad(dir.resolve("ca"), Instant.now());
        DeskgateConfigFile file = DeskgateConfigFile.parse("fleet.yaml", section(ca, "engine") + section(ca, "concentrator"));
        EmbeddedPostgres pg = own(EmbeddedPostgres.builder().start());
        String url = pg.getJdbcUrl("postgres", "postgres");
        Database db = own(Database.external(url.indexOf('?') < 0 ? url : url.substring(0, url.indexOf('?')), "postgres", "unused"));
        Fleet fleet = Fleet.of(db, TIMING);

        RoleRunner.Started<Engine> engine = own(RoleRunner.engine(UpOptions.builder().file(file).build().engine(), fleet, file));
        RoleRunner.Started<Concentrator> concentrator = own(RoleRunner.concentrator(file.concentrator(ConcentratorConfig.builder()),
                fleet, file));
        String engineTarget = engine.addresses().get(RegistryEntry.GRPC);
        String concentratorTarget = concentrator.addresses().get(RegistryEntry.GRPC);

        assertThat(closing(ControlChannels.open(engineTarget, caller(ca, "frontdoor")), ch -> EngineGrpc.newBlockingStub(ch)
                .withDeadlineAfter(30, TimeUnit.SECONDS).tally(TallyRequest.getDefaultInstance())).getConnections()).isZero();
        assertThat(closing(ControlChannels.open(concentratorTarget, caller(ca, "broker")), ch -> ConcentratorGrpc.newBlockingStub(ch)
                .withDeadlineAfter(30, TimeUnit.SECONDS).findAvailable(FindAvailableRequest.newBuilder().setTenant(1).setPool("default")
                        .setLimit(1).build())).getDesktopsList()).isEmpty();

        assertThatThrownBy(() -> closing(ControlChannels.open(engineTarget, new ControlAuth(fleet.controlSecret())),
                ch -> EngineGrpc.newBlockingStub(ch).withDeadlineAfter(30, TimeUnit.SECONDS).tally(TallyRequest.getDefaultInstance())))
                .as("the bearer token over plaintext is no credential for a mutual-TLS server")
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
        assertThatThrownBy(() -> closing(ControlChannels.open(concentratorTarget, caller(ca, "frontdoor")),
                ch -> ConcentratorGrpc.newBlockingStub(ch).withDeadlineAfter(30, TimeUnit.SECONDS)
                        .findAvailable(FindAvailableRequest.newBuilder().setTenant(1).setPool("default").setLimit(1).build())))
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED));
    }

    /** The rule of issue 9 as the launcher applies it, checked before anything is bound: no non-loopback socket is opened. */
    @Test
    void shouldRefuseAControlListenerOffLoopbackWithoutControlTlsInOneLine() {
        DeskgateConfigFile file = DeskgateConfigFile.parse("off.yaml", "concentrator:\n  bind-host: 0.0.0.0\n");
        assertThatThrownBy(() -> ControlTlsSection.checkListener(file, "concentrator", "0.0.0.0", List.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessage("off.yaml line 2: concentrator.bind-host: concentrator.bind-host 0.0.0.0 is not loopback: the control plane"
                        + " off loopback needs mutual TLS (set control.tls.ca, control.tls.cert and control.tls.key; issue them with"
                        + " deskgate ca issue <role>), or use 127.0.0.1");
        DeskgateConfigFile direct = DeskgateConfigFile.parse("direct.yaml", "broker:\n  placement: direct\n  agent-targets: [10.0.0.9:7000]\n");
        assertThatThrownBy(() -> ControlTlsSection.checkListener(direct, "broker", "127.0.0.1", List.of("10.0.0.9:7000")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("broker.agent-targets 10.0.0.9:7000: 10.0.0.9 is not loopback");
        ControlTlsSection.checkListener(DeskgateConfigFile.empty(), "engine", "127.0.0.1", List.of());
    }

    @Test
    void shouldRefuseAnUnknownKeyUnderControl() {
        assertThatThrownBy(() -> DeskgateConfigFile.parse("k.yaml", "agent:\n  control:\n    secret: x\n")).isInstanceOf(ConfigException.class)
                .hasMessageContaining("agent.control.secret").hasMessageContaining("unknown key");
    }
}
