package io.deskgate.launcher;

import io.deskgate.common.DeskgateException;
import io.deskgate.common.Status;
import io.deskgate.frontdoor.AdminBootstrap;
import io.deskgate.frontdoor.FrontdoorConfig;
import io.deskgate.store.Database;
import io.deskgate.store.EntitlementStore;
import io.deskgate.store.OwnerOnlyFiles;
import io.deskgate.store.PoolStore;
import io.deskgate.store.RegistryEntry;
import io.deskgate.store.Role;
import io.deskgate.store.StoreConfig;
import io.deskgate.store.UserStore;
import io.deskgate.tls.ServerTls;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code deskgate up --cluster} (issue 9 item 6): the {@link ClusterPlan}'s processes started and kept
 * running on this machine, behind Debian's HAProxy. This JVM holds the data directory, the embedded
 * PostgreSQL that every member logs in to (loopback, its password file), the admin user and default pool;
 * each member is a {@code deskgate run <role> --config FILE} child with its output in
 * {@code <data>/cluster/logs/<id>.log}. A member that exits while the cluster runs is started again after a
 * back-off (1 s doubling to 30 s, reset after a minute up), with one line on standard error; HAProxy is
 * supervised the same way. {@link #close} stops them all in reverse start order (SIGTERM, then SIGKILL
 * after 15 s). What is running is written to {@code <data>/status.json} ({@link StatusFile}) for {@code deskgate status}.
 */
final class Cluster implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Cluster.class);
    static final String DIR = "cluster";
    private static final Duration MEMBER_START = Duration.ofSeconds(300);
    private static final Duration READY = Duration.ofSeconds(300);
    private static final Duration STOP_GRACE = Duration.ofSeconds(15);

    private final StartedResources started = new StartedResources();
    private final List<Supervised> processes = new ArrayList<>();
    private Path data;
    private Path dir;
    private volatile URI url;
    private volatile StoreConfig store;
    private Optional<String> generatedAdminPassword = Optional.empty();
    private volatile boolean closing;

    private Cluster() {}

    /** Starts the whole cluster and waits until its URL serves and every desktop is held; on failure stops it and throws. */
    static Cluster start(UpOptions o) throws IOException {
        Cluster c = new Cluster();
        try {
            c.startAll(o);
            return c;
        } catch (RuntimeException | IOException e) {
            c.close();
            throw e;
        }
    }

    private void startAll(UpOptions o) throws IOException {
        long t0 = System.nanoTime();
        if (o.file().store().isPresent()) {
            throw new DeskgateException(Status.BAD_REQUEST, "up --cluster runs its own embedded store; for an external one,"
                    + " run each role with deskgate run (docs/operations.md)");
        }
        o.check();
        data = own(DataDirectory.claim(o.data())).path();
        dir = OwnerOnlyFiles.directory(data.resolve(DIR));
        Path logs = OwnerOnlyFiles.directory(dir.resolve("logs"));
        Database db = own(Database.embedded(data, this::postgresLost));
        StoreConfig store = db.embeddedStoreConfig().orElseThrow();
        Fleet fleet = Fleet.of(db, o.file().registry());
        generatedAdminPassword = RoleRunner.admin(fleet, o.adminPassword());

        FrontdoorConfig asked = o.frontdoor(data);
        String publicHost = asked.bindHost();
        // HAProxy cannot tell which port it was given for 0, so a free one is chosen here.
        int publicPort = asked.port() == 0 ? freePort() : asked.port();
        Optional<Path> pem = asked.tlsPem().or(() -> o.tls() || !ServerTls.isLoopback(publicHost)
                ? Optional.of(ServerTls.selfSignedPem(publicHost, data)) : Optional.empty());
        int desktops = Math.max(o.desktops().orElse(ClusterPlan.AGENTS), ClusterPlan.AGENTS);
        ClusterPlan plan = ClusterPlan.of(store, dir, publicHost, publicPort, asked.port() != 0 && asked.port() < 65_534, List.of(freePort(), freePort()), desktops, pem);
        AdminBootstrap.ensureDefaultPool(new UserStore(db.dataSource()), new PoolStore(db.dataSource()),
                new EntitlementStore(db.dataSource()), plan.of(RunCommand.RunRole.AGENT).stream().map(ClusterPlan.Member::id).toList());

        // One role at a time, its members at once: each finds the ones before it in the registry.
        for (RunCommand.RunRole role : List.of(RunCommand.RunRole.CONCENTRATOR, RunCommand.RunRole.AGENT,
                RunCommand.RunRole.BROKER, RunCommand.RunRole.ENGINE, RunCommand.RunRole.GATEWAY, RunCommand.RunRole.FRONTDOOR)) {
            List<Supervised> group = new ArrayList<>();
            for (ClusterPlan.Member m : plan.of(role)) {
                Path config = dir.resolve(m.id() + ".yaml");
                writeOwnerOnly(config, m.config());
                group.add(supervise(m.id(), role.section(), memberCommand(role, config), logs.resolve(m.id() + ".log"),
                        line -> line.startsWith("Deskgate " + role.section() + " " + m.id() + " is up")));
            }
            for (Supervised s : group) s.awaitReady(MEMBER_START);
        }
        Path haproxyConfig = dir.resolve("haproxy.cfg");
        writeOwnerOnly(haproxyConfig, plan.haproxyConfig(haproxyUser()));
        checkHaproxy(haproxyConfig);
        // HAProxy prints nothing when it starts well: it is up once the URL answers (below).
        Supervised balancer = supervise("haproxy", "balancer", List.of(haproxyBinary(), "-db", "-f", haproxyConfig.toString()),
                logs.resolve("haproxy.log"), line -> false);
        balancer.ready.complete(null);

        String scheme = pem.isPresent() ? "https" : "http";
        String host = publicHost.isEmpty() || publicHost.equals("0.0.0.0") ? "127.0.0.1" : Platform.publicHost(publicHost);
        int port = publicPort;
        url = URI.create(scheme + "://" + host + ":" + port + "/");
        awaitServing(balancer);
        awaitHeld(fleet, desktops);
        this.store = store;
        writeState();
        log.info("cluster ready in {} ms: {} processes, {} desktop(s), data in {}", (System.nanoTime() - t0) / 1_000_000,
                processes.size(), desktops, data);
    }

    /** {@code java ... io.deskgate.launcher.Main run <role> --config FILE} on this JVM's own class path. */
    private static List<String> memberCommand(RunCommand.RunRole role, Path config) {
        String java = ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        List<String> cmd = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED"));
        // The control roles are small: a short heap and the quick compiler keep 14 JVMs within two cores at start.
        switch (role) {
            case ENGINE, GATEWAY -> cmd.add("-Xmx1g");
            default -> cmd.addAll(List.of("-Xmx384m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"));
        }
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName(), "run", role.section(),
                "--config", config.toString()));
        return cmd;
    }

    private Supervised supervise(String id, String role, List<String> command, Path logFile,
                                 java.util.function.Predicate<String> ready) throws IOException {
        Supervised s = new Supervised(id, role, command, logFile, ready);
        synchronized (this) {
            processes.add(s);
        }
        s.launch();
        Thread.ofVirtual().name("cluster-" + id).start(s::watch);
        return s;
    }

    /** A member process, restarted when it exits while the cluster runs. */
    private final class Supervised {
        final String id;
        final String role;
        final List<String> command;
        final Path logFile;
        final java.util.function.Predicate<String> readyLine;
        final CompletableFuture<Void> ready = new CompletableFuture<>();
        volatile Process process;
        volatile long startedNs;

        Supervised(String id, String role, List<String> command, Path logFile, java.util.function.Predicate<String> readyLine) {
            this.id = id;
            this.role = role;
            this.command = List.copyOf(command);
            this.logFile = logFile;
            this.readyLine = readyLine;
        }

        synchronized void launch() throws IOException {
            ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
            pb.environment().remove("DESKGATE_ADMIN_PASSWORD");
            Process p = pb.start();
            process = p;
            startedNs = System.nanoTime();
            OutputStream out = Files.newOutputStream(logFile, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            OwnerOnlyFiles.file(logFile);
            Thread.ofVirtual().name("cluster-" + id + "-output").start(() -> copyOutput(p, out));
        }

        private void copyOutput(Process p, OutputStream out) {
            try (out; BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
                    out.flush();
                    if (readyLine.test(line)) ready.complete(null);
                }
            } catch (IOException e) {
                // the process is gone; watch() decides what follows
            }
        }

        /** Waits for each exit; starts the process again unless the cluster is closing. */
        void watch() {
            Duration backoff = Duration.ofSeconds(1);
            while (true) {
                Process p = process;
                int status;
                try {
                    status = p.waitFor();
                } catch (InterruptedException e) {
                    return;
                }
                if (closing) return;
                if (!ready.isDone()) {
                    ready.completeExceptionally(new DeskgateException(Status.INTERNAL_ERROR, id + " (" + role
                            + ") exited with status " + status + " before it was up; see " + logFile));
                    return;
                }
                if (System.nanoTime() - startedNs > Duration.ofMinutes(1).toNanos()) backoff = Duration.ofSeconds(1);
                System.err.println("deskgate: " + id + " (" + role + ") exited with status " + status + "; starting it again in "
                        + backoff.toSeconds() + " s (log: " + logFile + ")");
                LockSupport.parkNanos(backoff.toNanos());
                if (closing) return;
                try {
                    launch();
                    writeState();
                } catch (IOException e) {
                    System.err.println("deskgate: cannot start " + id + " again: " + e.getMessage());
                }
                backoff = backoff.multipliedBy(2).compareTo(Duration.ofSeconds(30)) > 0 ? Duration.ofSeconds(30) : backoff.multipliedBy(2);
            }
        }

        void awaitReady(Duration timeout) {
            try {
                ready.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.ExecutionException e) {
                throw e.getCause() instanceof DeskgateException d ? d
                        : new DeskgateException(Status.INTERNAL_ERROR, id + " did not start: " + e.getCause());
            } catch (java.util.concurrent.TimeoutException e) {
                throw new DeskgateException(Status.INTERNAL_ERROR, id + " (" + role + ") was not up within " + timeout.toSeconds()
                        + " s; see " + logFile);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new DeskgateException(Status.INTERNAL_ERROR, "interrupted while starting " + id);
            }
        }

        void stop() {
            Process p = process;
            if (p == null) return;
            p.toHandle().descendants().forEach(ProcessHandle::destroy);
            p.destroy();
        }

        void awaitStopped(long deadlineNs) {
            Process p = process;
            if (p == null) return;
            try {
                long left = deadlineNs - System.nanoTime();
                if (left <= 0 || !p.waitFor(left, TimeUnit.NANOSECONDS)) {
                    System.err.println("deskgate: " + id + " did not stop within " + STOP_GRACE.toSeconds() + " s; killing it");
                    p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Until a TCP connection to the balancer succeeds and a frontdoor behind it answers {@code /healthz} with 200. */
    private void awaitServing(Supervised balancer) {
        long deadline = System.nanoTime() + READY.toNanos();
        java.net.http.HttpClient http = java.net.http.HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2))
                .sslContext(TrustAll.context()).build();
        URI health = url.resolve("/healthz");
        String last = "no answer";
        while (System.nanoTime() - deadline < 0) {
            Process p = balancer.process;
            if (!p.isAlive()) {
                throw new DeskgateException(Status.INTERNAL_ERROR, "HAProxy exited with status " + p.exitValue() + " at start: "
                        + lastLine(balancer.logFile) + " (config " + dir.resolve("haproxy.cfg") + ")");
            }
            try {
                java.net.http.HttpResponse<String> r = http.send(java.net.http.HttpRequest.newBuilder(health)
                        .timeout(Duration.ofSeconds(5)).GET().build(), java.net.http.HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) return;
                last = r.statusCode() + " " + r.body();
            } catch (IOException e) {
                last = e.toString();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            LockSupport.parkNanos(Duration.ofMillis(250).toNanos());
        }
        throw new DeskgateException(Status.INTERNAL_ERROR, "the cluster's URL " + url + " did not become healthy within "
                + READY.toSeconds() + " s (last: " + last + "); logs in " + dir.resolve("logs"));
    }

    /** Until every concentrator set holds every desktop (each set's live members' loads add up to them). */
    private static void awaitHeld(Fleet fleet, int desktops) {
        long deadline = System.nanoTime() + READY.toNanos();
        while (System.nanoTime() - deadline < 0) {
            java.util.Map<String, Integer> bySet = new java.util.TreeMap<>();
            for (RegistryEntry e : fleet.registry().live(Role.CONCENTRATOR, fleet.timing().timeout())) {
                bySet.merge(e.label(RegistryEntry.SET).orElse(""), e.load(), Integer::sum);
            }
            if (bySet.size() == ClusterPlan.SETS && bySet.values().stream().allMatch(n -> n >= desktops)) return;
            LockSupport.parkNanos(Duration.ofMillis(200).toNanos());
        }
        throw new DeskgateException(Status.INTERNAL_ERROR, "the agents' " + desktops + " desktops did not reach every concentrator"
                + " set within " + READY.toSeconds() + " s");
    }

    /** What {@code deskgate status} reads: the store to ask and the processes this cluster runs. */
    private synchronized void writeState() {
        if (store == null || url == null) return;
        try {
            new StatusFile(url.toString(), store, processes.stream()
                    .map(p -> new StatusFile.Process(p.id, p.role, p.process.pid(), p.logFile.toString())).toList()).write(data);
        } catch (IOException e) {
            log.warn("cannot write {}: {}", StatusFile.NAME, e.toString());
        }
    }

    private static String lastLine(Path file) {
        try {
            List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
            return lines.isEmpty() ? "(no output)" : lines.getLast();
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            return s.getLocalPort();
        }
    }

    private static void writeOwnerOnly(Path file, String text) throws IOException {
        Files.writeString(file, text, StandardCharsets.UTF_8);
        OwnerOnlyFiles.file(file);
    }

    /** As root, HAProxy drops to Debian's {@code haproxy} user once it has bound its port. */
    private static Optional<String> haproxyUser() {
        boolean root = "root".equals(System.getProperty("user.name"));
        return root && Files.isDirectory(Path.of("/var/lib/haproxy")) ? Optional.of("haproxy") : Optional.empty();
    }

    private static String haproxyBinary() {
        for (String p : List.of("/usr/sbin/haproxy", "/usr/bin/haproxy", "/usr/local/sbin/haproxy")) {
            if (Files.isExecutable(Path.of(p))) return p;
        }
        throw new DeskgateException(Status.INTERNAL_ERROR, "HAProxy is not installed (Debian's package haproxy; ./deskgate up"
                + " --cluster installs it as root)");
    }

    /** {@code haproxy -c}: a config HAProxy refuses is one clear line, before anything listens. */
    private static void checkHaproxy(Path config) throws IOException {
        Process p = new ProcessBuilder(haproxyBinary(), "-c", "-q", "-f", config.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        try {
            if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new DeskgateException(Status.INTERNAL_ERROR, "HAProxy refused its generated config " + config + ": " + out);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DeskgateException(Status.INTERNAL_ERROR, "interrupted while checking HAProxy's config");
        }
    }

    private void postgresLost(String reason) {
        StartedResources.postgresLost(reason, this);
    }

    private <T extends AutoCloseable> T own(T resource) {
        return started.own(resource);
    }

    URI url() { return url; }

    Optional<String> generatedAdminPassword() { return generatedAdminPassword; }

    /** The processes, in start order (for tests): id, role and pid. */
    synchronized List<String[]> members() {
        return processes.stream().map(p -> new String[] {p.id, p.role, Long.toString(p.process.pid())}).toList();
    }

    /** Stops every member in reverse start order, then the store and the data directory; never throws. */
    @Override
    public void close() {
        closing = true;
        List<Supervised> reverse;
        synchronized (this) {
            reverse = new ArrayList<>(processes);
        }
        java.util.Collections.reverse(reverse);
        // The balancer and the frontdoors first, the concentrators last, each role's members at once.
        String role = null;
        List<Supervised> group = new ArrayList<>();
        for (Supervised s : reverse) {
            if (!s.role.equals(role) && !group.isEmpty()) {
                stopGroup(group);
                group.clear();
            }
            role = s.role;
            group.add(s);
        }
        stopGroup(group);
        if (data != null && store != null) StatusFile.remove(data);
        started.close();
    }

    private static void stopGroup(List<Supervised> group) {
        long deadline = System.nanoTime() + STOP_GRACE.toNanos();
        group.forEach(Supervised::stop);
        group.forEach(s -> s.awaitStopped(deadline));
    }

    /**
     * Trusts any server certificate: only for the start-up probe of the cluster's own URL on this machine, which
     * sends nothing secret and reads only the status code (the certificate may be the self-signed one made now).
     */
    private static final class TrustAll implements javax.net.ssl.X509TrustManager {
        static javax.net.ssl.SSLContext context() {
            try {
                javax.net.ssl.SSLContext c = javax.net.ssl.SSLContext.getInstance("TLS");
                c.init(null, new javax.net.ssl.TrustManager[] {new TrustAll()}, null);
                return c;
            } catch (java.security.GeneralSecurityException e) {
                throw new IllegalStateException("no TLS context", e);
            }
        }

        @Override
        public void checkClientTrusted(java.security.cert.X509Certificate[] chain, String authType) {}

        @Override
        public void checkServerTrusted(java.security.cert.X509Certificate[] chain, String authType) {}

        @Override
        public java.security.cert.X509Certificate[] getAcceptedIssuers() { return new java.security.cert.X509Certificate[0]; }
    }
}
