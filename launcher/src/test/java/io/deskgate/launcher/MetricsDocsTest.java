package io.deskgate.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import io.deskgate.agent.AgentMetrics;
import io.deskgate.broker.BrokerMetrics;
import io.deskgate.concentrator.ConcentratorMetrics;
import io.deskgate.engine.EngineMetrics;
import io.deskgate.gateway.GatewayMetrics;
import io.deskgate.metrics.RoleMetrics;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** docs/operations.md's "Metrics" table names every meter the roles register up front (their counters and timers). */
class MetricsDocsTest {
    private static final Path DOC = Path.of("").toAbsolutePath().getParent().resolve("docs/operations.md");

    @Test
    void shouldListEveryRolesCountersAndTimers() throws Exception {
        PrometheusMeterRegistry registry = RoleMetrics.newRegistry();
        new GatewayMetrics(new RoleMetrics(registry, "gateway"));
        new BrokerMetrics(new RoleMetrics(registry, "broker"));
        new ConcentratorMetrics(new RoleMetrics(registry, "concentrator"));
        new AgentMetrics(new RoleMetrics(registry, "agent"));
        new EngineMetrics(new RoleMetrics(registry, "engine"));
        new RoleMetrics(registry, "frontdoor").error("internal_error");
        Set<String> registered = new TreeSet<>();
        Matcher type = Pattern.compile("(?m)^# TYPE (deskgate_\\w+) \\w+$").matcher(registry.scrape());
        while (type.find()) if (!type.group(1).endsWith("_max")) registered.add(type.group(1));
        assertThat(registered).as("what the roles register").contains("deskgate_gateway_datagrams_dropped_total",
                "deskgate_broker_placements_total", "deskgate_engine_lag_seconds", "deskgate_errors_total");

        Set<String> documented = new TreeSet<>();
        Matcher row = Pattern.compile("(?m)^\\| `(deskgate_\\w+)` \\|").matcher(Files.readString(DOC));
        while (row.find()) documented.add(row.group(1));
        assertThat(documented).as("the meters %s lists", DOC).containsAll(registered);
    }
}
