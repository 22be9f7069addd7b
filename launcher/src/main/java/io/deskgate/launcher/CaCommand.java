package io.deskgate.launcher;

import io.deskgate.common.DeskgateException;
import io.deskgate.common.Status;
import io.deskgate.tls.ClusterCa;
import io.deskgate.tls.TlsCertificates;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code deskgate ca}: the control plane's cluster CA ({@link ClusterCa}, issue 9). {@code ca init --dir D}
 * creates one (or keeps the one there); {@code ca issue <role> --out DIR} writes a role's certificate, key and
 * the CA's certificate for the role's {@code control.tls} section. The CA defaults to the one {@code deskgate
 * up} keeps in its data directory ({@code <data>/}{@value #CA_DIR}). A bad request is one line and exit status 1.
 */
@Command(name = "ca", mixinStandardHelpOptions = true,
        description = "The control plane's cluster CA: certificates for roles that run on other hosts (mutual TLS).",
        subcommands = {CaCommand.Init.class, CaCommand.Issue.class})
final class CaCommand implements Runnable {
    /** The CA's directory under a data directory: {@code up} creates it there at first start. */
    static final String CA_DIR = "control-ca";

    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** The CA directory: {@code --dir} when given, else {@code <data>/control-ca}. */
    static Path caDir(Optional<Path> dir, Optional<Path> data) {
        return dir.orElseGet(() -> data.orElseGet(UpOptions::defaultDataDir).resolve(CA_DIR));
    }

    @Command(name = "init", mixinStandardHelpOptions = true,
            description = "Create the cluster CA in a directory (kept if one is there): ca.pem for every host, ca.key stays here.")
    static final class Init implements Callable<Integer> {
        @Option(names = "--dir", paramLabel = "DIR", description = "Where the CA lives (default: <data>/" + CA_DIR + ").")
        Path dir;

        @Option(names = "--data", paramLabel = "DIR", description = "The data directory whose CA to use when --dir is not given.")
        Path data;

        @Spec picocli.CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            Path d = caDir(Optional.ofNullable(dir), Optional.ofNullable(data));
            ClusterCa ca = ClusterCa.initOrLoad(d, Instant.now());
            spec.commandLine().getOut().println("Cluster CA in " + d + " (until " + ca.certificate().getNotAfter().toInstant()
                    + "): " + ClusterCa.CA_CERT + " is for every host, " + ClusterCa.CA_KEY + " stays here (owner-only)");
            spec.commandLine().getOut().flush();
            return 0;
        }
    }

    @Command(name = "issue", mixinStandardHelpOptions = true,
            description = "Issue a role's certificate from the cluster CA: <role>.pem, <role>.key and ca.pem into --out.")
    static final class Issue implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "ROLE", description = "agent, broker, concentrator, engine or frontdoor")
        String role;

        @Option(names = "--id", paramLabel = "ID", description = "The instance's name in the certificate (default: the role).")
        String id;

        @Option(names = "--host", paramLabel = "NAME|IP",
                description = "A DNS name or address others dial the role at; repeat for each (default: localhost, 127.0.0.1, ::1).")
        List<String> hosts = new ArrayList<>();

        @Option(names = "--days", paramLabel = "N", description = "Validity in days (default: 90).")
        int days = (int) ClusterCa.ROLE_VALIDITY.toDays();

        @Option(names = "--ca-dir", paramLabel = "DIR", description = "The cluster CA (default: <data>/" + CA_DIR + ").")
        Path caDir;

        @Option(names = "--data", paramLabel = "DIR", description = "The data directory whose CA to use when --ca-dir is not given.")
        Path data;

        @Option(names = "--out", paramLabel = "DIR", required = true, description = "Where to write the three files.")
        Path out;

        @Spec picocli.CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            if (days < 1) throw new DeskgateException(Status.BAD_REQUEST, "--days must be at least 1, got " + days);
            ClusterCa ca = ClusterCa.load(caDir(Optional.ofNullable(caDir), Optional.ofNullable(data)));
            List<String> names = hosts.isEmpty() ? List.of("localhost", "127.0.0.1", "::1") : hosts;
            TlsCertificates.KeyAndChain issued;
            try {
                issued = ca.issue(role, id == null ? role : id, names, Instant.now(), Duration.ofDays(days));
            } catch (IllegalArgumentException e) {
                throw new DeskgateException(Status.BAD_REQUEST, e.getMessage());
            }
            ClusterCa.RoleFiles files = ClusterCa.write(issued, role, out);
            spec.commandLine().getOut().println("Issued a " + role + " certificate for " + String.join(", ", names) + " until "
                    + issued.chain().getFirst().getNotAfter().toInstant() + ": in the role's section set control.tls.ca: "
                    + files.ca() + ", control.tls.cert: " + files.cert() + ", control.tls.key: " + files.key());
            spec.commandLine().getOut().flush();
            return 0;
        }
    }
}
