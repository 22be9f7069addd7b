package io.deskgate.launcher;

import io.deskgate.agent.AgentConfig;
import io.deskgate.agent.DesktopIsolation;
import io.deskgate.broker.BrokerConfig;
import io.deskgate.concentrator.ConcentratorConfig;
import io.deskgate.config.ConfigException;
import io.deskgate.config.ConfigFile;
import io.deskgate.config.ConfigSection;
import io.deskgate.encode.EncoderConfig;
import io.deskgate.engine.EngineConfig;
import io.deskgate.engine.InstanceLimits;
import io.deskgate.frontdoor.FrontdoorConfig;
import io.deskgate.gateway.GatewayConfig;
import io.deskgate.metrics.MetricsConfig;
import io.deskgate.store.RegistryTiming;
import io.deskgate.store.StoreConfig;
import io.deskgate.stream.StreamSessionConfig;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Deskgate's config file (docs/configuration.md): a top-level {@code data} (the data directory), one
 * section per role, {@code frontdoor}, {@code gateway}, {@code engine}, {@code agent}, {@code broker} and
 * {@code concentrator},
 * with the nested sections {@link #SECTIONS} lists, and the fleet's {@code store} and {@code registry}. Each
 * of {@code frontdoor}, {@code gateway} and {@code broker} also takes {@link #ID} (the engine's and the agent's
 * are their {@code engine-id} and {@code agent-id}, the concentrator's its own {@code id}), the instance's
 * registry id. Each role's method applies its section (and nested
 * ones) onto a builder that already holds the defaults and the caller's wiring, so the caller can then
 * apply its command-line flags and build; {@link #build} names the file, line and key of a value the
 * config's validation refuses. Read once, immutable; every section is applied onto fresh builders when
 * read, so that an unknown key or a wrong type fails before anything starts. {@code deskgate up} reads
 * every section; {@code deskgate run <role>} reads its role's.
 */
public final class DeskgateConfigFile {
    /** The top-level key naming the data directory. */
    public static final String DATA = "data";
    /** The key of a role section naming the instance in the registry (the engine's and the agent's are their own {@code engine-id} and {@code agent-id}). */
    public static final String ID = "id";
    /** The role sections that take {@link #ID}. */
    public static final Set<String> SECTIONS_WITH_ID = Set.of("frontdoor", "gateway", "broker");
    /** The role sections with a nested {@code metrics} section ({@link MetricsConfig}); the frontdoor has its {@code metrics-port}. */
    public static final List<String> METRICS_SECTIONS = List.of("gateway", "engine", "agent", "broker", "concentrator");
    /** Every section's dotted path and the builder its keys are set on, in the order docs/configuration.md lists them. */
    public static final Map<String, Class<?>> SECTIONS;

    static {
        Map<String, Class<?>> s = new LinkedHashMap<>();
        s.put("frontdoor", FrontdoorConfig.Builder.class);
        s.put("gateway", GatewayConfig.Builder.class);
        s.put("gateway.stream", StreamSessionConfig.Builder.class);
        s.put("engine", EngineConfig.Builder.class);
        s.put("engine.stream", StreamSessionConfig.Builder.class);
        s.put("engine.limits", InstanceLimits.Builder.class);
        s.put("engine.encoder", EncoderConfig.Builder.class);
        s.put("agent", AgentConfig.Builder.class);
        s.put("agent.isolation", DesktopIsolation.Builder.class);
        s.put("broker", BrokerConfig.Builder.class);
        s.put("concentrator", ConcentratorConfig.Builder.class);
        s.put("store", StoreConfig.Builder.class);
        s.put("registry", RegistryTiming.Builder.class);
        for (String role : ControlTlsSection.ROLES) s.put(role + ".control.tls", ControlTlsSection.Builder.class);
        for (String role : METRICS_SECTIONS) s.put(role + ".metrics", MetricsConfig.Builder.class);
        SECTIONS = java.util.Collections.unmodifiableMap(s);
    }

    private final ConfigFile file;

    private DeskgateConfigFile(ConfigFile file) {
        this.file = file;
        Set<String> top = new LinkedHashSet<>();
        top.add(DATA);
        for (String section : SECTIONS.keySet()) if (!section.contains(".")) top.add(section);
        file.requireOnly(top);
        data();
        frontdoor(FrontdoorConfig.builder());
        gateway(GatewayConfig.builder());
        engine(EngineConfig.builder());
        agent(AgentConfig.builder());
        broker(BrokerConfig.builder());
        concentrator(ConcentratorConfig.builder());
        store();
        registry();
        for (String section : SECTIONS_WITH_ID) id(section);
        for (String role : ControlTlsSection.ROLES) controlTls(role);
        for (String section : METRICS_SECTIONS) metrics(section);
    }

    /** No file: every builder keeps its defaults and wiring. */
    public static DeskgateConfigFile empty() {
        return new DeskgateConfigFile(ConfigFile.empty());
    }

    /** Reads {@code path}; a missing, unreadable, oversized or malformed file, or a bad key in it, is a {@link ConfigException}. */
    public static DeskgateConfigFile read(Path path) {
        return new DeskgateConfigFile(ConfigFile.read(path));
    }

    /** Parses {@code yaml} ({@code source} names it in messages). */
    public static DeskgateConfigFile parse(String source, String yaml) {
        return new DeskgateConfigFile(ConfigFile.parse(source, yaml));
    }

    /** The data directory the file names, if it does (relative to the working directory). */
    public Optional<Path> data() {
        return file.text(DATA).map(Path::of);
    }

    /** The file's {@code frontdoor} section applied onto {@code b}. */
    public FrontdoorConfig.Builder frontdoor(FrontdoorConfig.Builder b) {
        return file.section("frontdoor").applyTo(b, ID, ControlTlsSection.CONTROL);
    }

    /** The file's {@code gateway} section (and {@code gateway.stream}, over the defaults) applied onto {@code b}. */
    public GatewayConfig.Builder gateway(GatewayConfig.Builder b) {
        file.section("gateway").applyTo(b, "stream", "metrics", ID);
        nested("gateway.stream", StreamSessionConfig::builder, StreamSessionConfig.Builder::build).ifPresent(b::stream);
        return b;
    }

    /** The file's {@code engine} section (and {@code stream}, {@code limits}, {@code encoder}, over the defaults) applied onto {@code b}. */
    public EngineConfig.Builder engine(EngineConfig.Builder b) {
        file.section("engine").applyTo(b, "stream", "limits", "encoder", "metrics", ControlTlsSection.CONTROL);
        nested("engine.stream", StreamSessionConfig::builder, StreamSessionConfig.Builder::build).ifPresent(b::stream);
        nested("engine.limits", InstanceLimits::builder, InstanceLimits.Builder::build).ifPresent(b::limits);
        nested("engine.encoder", EncoderConfig::builder, EncoderConfig.Builder::build).ifPresent(b::encoder);
        return b;
    }

    /** The file's {@code agent} section (and {@code agent.isolation}, over the defaults) applied onto {@code b}. */
    public AgentConfig.Builder agent(AgentConfig.Builder b) {
        file.section("agent").applyTo(b, "isolation", "metrics", ControlTlsSection.CONTROL);
        nested("agent.isolation", DesktopIsolation::builder, DesktopIsolation.Builder::build).ifPresent(b::isolation);
        return b;
    }

    /** The file's {@code broker} section applied onto {@code b}. */
    public BrokerConfig.Builder broker(BrokerConfig.Builder b) {
        return file.section("broker").applyTo(b, "metrics", ID, ControlTlsSection.CONTROL);
    }

    /** The file's {@code concentrator} section applied onto {@code b} (its {@code id} and {@code set} are its own keys). */
    public ConcentratorConfig.Builder concentrator(ConcentratorConfig.Builder b) {
        return file.section("concentrator").applyTo(b, "metrics", ControlTlsSection.CONTROL);
    }

    /**
     * The files of {@code <role>.control.tls}, when the role's section has them: the role's mutual TLS on the
     * control plane (issue 9). Not read here: {@link io.deskgate.control.ControlTls#load} reads them at start.
     *
     * @throws ConfigException for a key other than {@code tls} under {@code control}, an unknown key under
     *                         {@code tls}, or not all three of {@code ca}, {@code cert} and {@code key}
     */
    public Optional<io.deskgate.control.ControlTls.Files> controlTls(String role) {
        if (!ControlTlsSection.ROLES.contains(role)) throw new IllegalArgumentException("section " + role + " has no control.tls");
        file.section(role + "." + ControlTlsSection.CONTROL).applyTo(new ControlTlsSection.ControlBuilder(), ControlTlsSection.TLS);
        return nested(role + ".control.tls", ControlTlsSection.Builder::new, ControlTlsSection.Builder::build);
    }

    /**
     * Where the role {@code section} serves its metrics: its nested {@code metrics} section over the defaults (off), or
     * {@link MetricsConfig#DISABLED} without one.
     */
    public MetricsConfig metrics(String section) {
        if (!METRICS_SECTIONS.contains(section)) throw new IllegalArgumentException("section " + section + " has no metrics section");
        return nested(section + ".metrics", MetricsConfig::builder, MetricsConfig.Builder::build).orElse(MetricsConfig.DISABLED);
    }

    /** The file's {@code store} section, built, when it has one: an external store (else {@code up} runs its embedded one). */
    public Optional<StoreConfig> store() {
        ConfigSection section = file.section("store");
        if (!section.present()) return Optional.empty();
        StoreConfig.Builder b = section.applyTo(StoreConfig.builder());
        return Optional.of(build("store", b::build));
    }

    /** The file's {@code registry} section over the defaults ({@link RegistryTiming#DEFAULT} without one). */
    public RegistryTiming registry() {
        return nested("registry", RegistryTiming::builder, RegistryTiming.Builder::build).orElse(RegistryTiming.DEFAULT);
    }

    /**
     * The registry id the role {@code section} gives its instance ({@value #ID}), else {@code <section>-1}: letters,
     * digits and {@code . _ : -}, at most 128.
     */
    public String id(String section) {
        if (!SECTIONS_WITH_ID.contains(section)) throw new IllegalArgumentException("section " + section + " has no " + ID);
        ConfigSection s = file.section(section);
        Optional<String> id = s.text(ID);
        if (id.isPresent() && !id.get().matches("[A-Za-z0-9._:-]{1,128}")) {
            throw s.refuse(ID, "must be 1-128 letters, digits or . _ : - (got '" + id.get() + "')");
        }
        return id.orElse(section + "-1");
    }

    /** The file's name, as messages give it. */
    public String source() {
        return file.source();
    }

    /**
     * {@code build.get()}, with an {@link IllegalArgumentException} from the config's validation turned into a
     * {@link ConfigException} naming the file, the {@code section} and, where the message names one of its keys,
     * that key and its line.
     */
    public <C> C build(String section, Supplier<C> build) {
        try {
            return build.get();
        } catch (IllegalArgumentException e) {
            throw file.section(section).invalid(e);
        }
    }

    /** Whether the file has the section {@code section} (a role's, such as {@code concentrator}). */
    public boolean has(String section) {
        return file.section(section).present();
    }

    /** A nested section, built from the defaults, when the file has it. */
    private <B, C> Optional<C> nested(String path, Supplier<B> builder, java.util.function.Function<B, C> build) {
        ConfigSection section = file.section(path);
        if (!section.present()) return Optional.empty();
        B b = section.applyTo(builder.get());
        try {
            return Optional.of(build.apply(b));
        } catch (IllegalArgumentException e) {
            throw section.invalid(e);
        }
    }
}
