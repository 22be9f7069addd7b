package io.deskgate.launcher;

import io.deskgate.store.StoreConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What {@code deskgate up --cluster} runs (issue 9 item 6): the fleet of one machine as separate processes,
 * 2 frontdoors, 2 brokers, 2 concentrator sets of 2, 2 agents, 2 engines and 2 gateways, each a {@code deskgate
 * run <role> --config FILE} of its own on the one store, with HAProxy in front of the frontdoors. Pure: it
 * only says which processes, with which config file text, in which start order, and the balancer's config;
 * {@link Cluster} writes and starts them.
 *
 * @param members        in start order: concentrators, agents, brokers, engines, gateways, frontdoors
 * @param publicHost     where the balancer (and the gateways, which browsers reach directly) listen
 * @param publicPort     the balancer's port: the one URL of the cluster
 */
record ClusterPlan(List<Member> members, String publicHost, int publicPort) {
    /** The processes of each role. */
    static final int FRONTDOORS = 2;
    static final int BROKERS = 2;
    static final int SETS = 2;
    static final int CONCENTRATORS_PER_SET = 2;
    static final int AGENTS = 2;
    static final int ENGINES = 2;
    static final int GATEWAYS = 2;
    /**
     * Desktop users of agent n: {@code deskgate-c<letter>} with letters from here, so that agents never share a
     * user, nor with a plain {@code up} ({@code deskgate-d}) on the same machine; uids above a plain up's range.
     */
    private static final String USER_PREFIX_LETTERS = "abcdefgh";
    private static final int FIRST_UID = 65000;
    private static final int UIDS_PER_AGENT = 250;

    ClusterPlan {
        members = List.copyOf(members);
        Objects.requireNonNull(publicHost, "publicHost");
    }

    /**
     * One process of the cluster.
     *
     * @param role       its {@code run} role
     * @param id         its registry id (also its config file's and log file's name)
     * @param config     its config file's text (YAML)
     * @param fixedPort  the port it must keep across restarts (a frontdoor's, which the balancer names), else empty
     */
    record Member(RunCommand.RunRole role, String id, String config, Optional<Integer> fixedPort) {}

    /**
     * The plan.
     *
     * @param store         how every member reaches the store (the embedded server's loopback URL and password file)
     * @param dir           the cluster's directory under the data directory: each member's data is {@code dir/<id>}
     * @param publicHost    the bind address of the balancer and the gateways
     * @param publicPort    the balancer's port
     * @param gatewayPorts  whether the gateways listen at {@code publicPort} + 1 and + 2 (else on any free port, as
     *                      when the portal's port was asked as 0)
     * @param frontdoorPorts the frontdoors' own ports on 127.0.0.1, one per frontdoor (free ones, picked by the caller)
     * @param desktops      desktops in all, split over the agents (at least one each)
     * @param tlsPem        the certificate the frontdoors and gateways serve HTTPS/WSS with, if any
     */
    static ClusterPlan of(StoreConfig store, Path dir, String publicHost, int publicPort, boolean gatewayPorts, List<Integer> frontdoorPorts,
                          int desktops, Optional<Path> tlsPem) {
        if (frontdoorPorts.size() != FRONTDOORS) throw new IllegalArgumentException("need " + FRONTDOORS + " frontdoor ports");
        if (desktops < AGENTS) throw new IllegalArgumentException("a cluster runs at least " + AGENTS + " desktops, one per agent");
        List<Member> members = new ArrayList<>();
        for (int s = 1; s <= SETS; s++) {
            for (int c = 0; c < CONCENTRATORS_PER_SET; c++) {
                String id = "c" + s + (char) ('a' + c);
                members.add(member(RunCommand.RunRole.CONCENTRATOR, id, store, dir,
                        "concentrator:\n  id: " + id + "\n  set: set-" + s + "\n  grpc-port: 0\n", Optional.empty()));
            }
        }
        for (int a = 1; a <= AGENTS; a++) {
            String id = "ag-" + a;
            int mine = desktops / AGENTS + (a <= desktops % AGENTS ? 1 : 0);
            int firstUid = FIRST_UID + (a - 1) * UIDS_PER_AGENT;
            members.add(member(RunCommand.RunRole.AGENT, id, store, dir,
                    "agent:\n  agent-id: " + id + "\n  desktops: " + mine + "\n  grpc-port: 0\n  isolation:\n"
                            + "    user-prefix: deskgate-c" + USER_PREFIX_LETTERS.charAt(a - 1) + "\n"
                            + "    first-uid: " + firstUid + "\n    last-uid: " + (firstUid + UIDS_PER_AGENT - 1) + "\n",
                    Optional.empty()));
        }
        for (int b = 1; b <= BROKERS; b++) {
            String id = "br-" + b;
            members.add(member(RunCommand.RunRole.BROKER, id, store, dir, "broker:\n  id: " + id + "\n  grpc-port: 0\n",
                    Optional.empty()));
        }
        for (int e = 1; e <= ENGINES; e++) {
            String id = "en-" + e;
            members.add(member(RunCommand.RunRole.ENGINE, id, store, dir, "engine:\n  engine-id: " + id + "\n  grpc-port: 0\n",
                    Optional.empty()));
        }
        String tls = tlsPem.map(p -> "  tls-pem: " + quoted(p.toString()) + "\n").orElse("");
        for (int g = 1; g <= GATEWAYS; g++) {
            String id = "gw-" + g;
            int wsPort = gatewayPorts ? publicPort + g : 0;
            members.add(member(RunCommand.RunRole.GATEWAY, id, store, dir, "gateway:\n  id: " + id + "\n  bind-host: "
                    + quoted(publicHost) + "\n  ws-port: " + wsPort + "\n  udp-port: 0\n"
                    // The gateway reads its certificate from the frontdoor section (as up does).
                    + (tls.isEmpty() ? "" : "frontdoor:\n" + tls), Optional.empty()));
        }
        for (int f = 1; f <= FRONTDOORS; f++) {
            String id = "fd-" + f;
            int port = frontdoorPorts.get(f - 1);
            members.add(member(RunCommand.RunRole.FRONTDOOR, id, store, dir, "frontdoor:\n  id: " + id
                    + "\n  bind-host: 127.0.0.1\n  port: " + port + "\n" + tls, Optional.of(port)));
        }
        return new ClusterPlan(members, publicHost, publicPort);
    }

    private static Member member(RunCommand.RunRole role, String id, StoreConfig store, Path dir, String section,
                                 Optional<Integer> fixedPort) {
        String common = "data: " + quoted(dir.resolve(id).toString()) + "\n"
                + "store:\n  url: " + quoted(store.url()) + "\n  user: " + quoted(store.user()) + "\n"
                + store.passwordFile().map(f -> "  password-file: " + quoted(f.toString()) + "\n").orElse("")
                + store.passwordEnv().map(v -> "  password-env: " + quoted(v) + "\n").orElse("");
        return new Member(role, id, common + section, fixedPort);
    }

    /** The members of {@code role}, in start order. */
    List<Member> of(RunCommand.RunRole role) {
        return members.stream().filter(m -> m.role() == role).toList();
    }

    /**
     * HAProxy's config: one TCP frontend on the public address, the frontdoors behind it by least connections,
     * each checked by a TCP connect every second (two failures take it out, two successes bring it back). TCP,
     * not HTTP: TLS (when on) ends at the frontdoors, which all serve the same certificate, and HAProxy never
     * sees a cookie or a password.
     *
     * @param runAs the user HAProxy drops to once its port is bound (when started as root)
     */
    String haproxyConfig(Optional<String> runAs) {
        StringBuilder b = new StringBuilder();
        b.append("# Generated by deskgate up --cluster; rewritten at every start.\n")
                // Each connection takes two descriptors; 4,096 stays within a 20,000 descriptor limit with room to spare.
                .append("global\n  maxconn 4096\n");
        runAs.ifPresent(u -> b.append("  user ").append(u).append("\n  group ").append(u).append('\n'));
        b.append('\n')
                .append("defaults\n  mode tcp\n  timeout connect 5s\n  timeout client 1h\n  timeout server 1h\n")
                .append("  timeout client-fin 10s\n  timeout server-fin 10s\n\n")
                .append("frontend portal\n  bind ").append(bindAddress(publicHost)).append(':').append(publicPort).append('\n')
                .append("  default_backend frontdoors\n\n")
                .append("backend frontdoors\n  balance leastconn\n");
        for (Member m : of(RunCommand.RunRole.FRONTDOOR)) {
            b.append("  server ").append(m.id()).append(" 127.0.0.1:").append(m.fixedPort().orElseThrow())
                    .append(" check inter 1s fall 2 rise 2\n");
        }
        return b.toString();
    }

    /** HAProxy's spelling of a bind address: an IPv6 literal in brackets, a wildcard as {@code *}. */
    static String bindAddress(String host) {
        if (host.isEmpty() || host.equals("0.0.0.0")) return "*";
        if (host.contains(":") && !host.startsWith("[")) return "[" + host + "]";
        return host;
    }

    /** A YAML double-quoted scalar. */
    static String quoted(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                default -> {
                    if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
                    else b.append(c);
                }
            }
        }
        return b.append('"').toString();
    }
}
