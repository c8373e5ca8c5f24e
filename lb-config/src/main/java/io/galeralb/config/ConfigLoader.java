package io.galeralb.config;

import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;

/**
 * Reads a galera-lb YAML file into a validated {@link GaleraLbConfig}. Reports every
 * problem of the file at once, each with file, line and key.
 *
 * <p>Only SnakeYAML's composer is used: the document becomes a tree of nodes with their
 * positions and no Java object is ever constructed from YAML tags.
 */
public final class ConfigLoader {

    private static final Set<String> TOP_KEYS =
            Set.of("listeners", "admin", "lock-file", "io-threads", "busy-poll", "shutdown-grace",
                    "drain-timeout", "dns");
    private static final Set<String> DNS_KEYS = Set.of("nameservers");
    private static final Set<String> ADMIN_KEYS = Set.of("bind", "token-file", "token-env");
    private static final int MIN_TOKEN_LENGTH = 16;
    private static final Set<String> LISTENER_KEYS =
            Set.of("bind", "balance", "max-connections", "timeouts", "health", "on-server-down", "failback",
                    "writer-lease", "source", "send-proxy", "accept-proxy", "trusted-proxies", "session-log", "slowstart",
                    "resolve-interval", "rebalance", "rebalance-rate", "servers");
    private static final Set<String> TIMEOUT_KEYS = Set.of("connect", "client-idle", "server-idle", "fin-timeout");
    private static final Set<String> SERVER_KEYS = Set.of("address", "weight", "priority", "send-proxy", "slowstart");
    private static final Set<String> WRITER_LEASE_KEYS = Set.of("schema", "table", "user", "password",
            "password-env", "password-file");
    /** Where the packaged service's secrets live (systemd's EnvironmentFile). */
    public static final String ENVIRONMENT_FILE = "/etc/galera-lb/environment";
    private static final List<String> PASSWORD_KEYS = List.of("password", "password-env", "password-file");
    private static final Set<String> HEALTH_KEYS = Set.of("type", "user", "password", "password-env",
            "password-file", "interval", "fast-interval", "timeout", "rise", "fall", "available-when-donor", "available-when-read-only",
            "max-recv-queue", "tls");

    private static final Map<String, Balance> BALANCES = words(Balance.values(), Balance::yamlName);
    private static final Map<String, HealthCheckType> CHECK_TYPES =
            words(HealthCheckType.values(), HealthCheckType::yamlName);
    private static final Map<String, DonorPolicy> DONOR_POLICIES =
            words(DonorPolicy.values(), DonorPolicy::yamlName);
    private static final Map<String, OnServerDown> ON_SERVER_DOWN =
            words(OnServerDown.values(), OnServerDown::yamlName);
    private static final Map<String, SendProxy> SEND_PROXY = words(SendProxy.values(), SendProxy::yamlName);
    private static final Map<String, SessionLogMode> SESSION_LOG = words(SessionLogMode.values(), SessionLogMode::yamlName);

    /** What the loader needs from its surroundings: environment variables, and whether the file is private. */
    private record Context(Map<String, String> env, boolean ownerOnlyFile) {
    }

    private static final Duration ONE_MS = Duration.ofMillis(1);
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,63}");
    private static final Duration ONE_DAY = Duration.ofDays(1);
    /** A top-level {@code lock-file:} line, for files that are not valid YAML as a whole. */
    private static final Pattern LOCK_FILE_LINE =
            Pattern.compile("lock-file:\\s*[\"']?([^\"'#\\s][^\"'#]*?)[\"']?\\s*(#.*)?");

    private ConfigLoader() {
    }

    /** Reads and validates a file; secrets named by {@code password-env} come from this process's environment. */
    public static GaleraLbConfig load(Path file) throws ConfigException {
        return load(file, System.getenv());
    }

    /** Reads and validates a file, taking environment variables from {@code env}. */
    public static GaleraLbConfig load(Path file, Map<String, String> env) throws ConfigException {
        String name = file.toString();
        byte[] bytes;
        try {
            bytes = TrustedFiles.read(file, TrustedFiles.MAX_CONFIG_BYTES, false, "configuration file");
        } catch (NoSuchFileException e) {
            throw single(name, "file not found");
        } catch (TrustedFiles.Untrusted e) {
            throw single(name, e.getMessage());
        } catch (IOException e) {
            throw single(name, "cannot read file: " + e.getMessage());
        }
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes))
                    .toString();
        } catch (CharacterCodingException e) {
            throw single(name, "not a YAML file: the content is not UTF-8 text");
        }
        return parse(name, text, new Context(env, ownerOnly(file)));
    }

    /**
     * Parses and validates YAML text; {@code name} names the source in errors. Text has no file
     * permissions, so an inline {@code password} is refused.
     */
    public static GaleraLbConfig parse(String name, String text) throws ConfigException {
        return parse(name, text, System.getenv());
    }

    /** As {@link #parse(String, String)}, taking environment variables from {@code env}. */
    public static GaleraLbConfig parse(String name, String text, Map<String, String> env) throws ConfigException {
        return parse(name, text, new Context(env, false));
    }

    /**
     * The lock file a configuration file names, read even when the rest of the file is invalid
     * (so that {@code galera-lb reload} still finds the running instance and it reports the
     * errors); the default one when the file names none or cannot be read at all.
     */
    public static Path lockFileOf(Path file) {
        String text;
        try {
            text = new String(TrustedFiles.read(file, TrustedFiles.MAX_CONFIG_BYTES, false, "configuration file"),
                    StandardCharsets.UTF_8);
        } catch (IOException e) {
            return GaleraLbConfig.defaultLockFile(file.toString());
        }
        try (Reader r = new StringReader(text)) {
            Node root = new Yaml(new SafeConstructor(new LoaderOptions())).compose(r);
            if (root instanceof MappingNode m) {
                for (NodeTuple t : m.getValue()) {
                    if (t.getKeyNode() instanceof ScalarNode k && k.getValue().equals("lock-file")
                            && t.getValueNode() instanceof ScalarNode v && !v.getValue().isBlank()) {
                        return Path.of(v.getValue());
                    }
                }
            }
            return GaleraLbConfig.defaultLockFile(file.toString());
        } catch (IOException | RuntimeException e) {
            // Not YAML enough to compose (YAMLException is a RuntimeException): a top-level
            // 'lock-file:' line still says where the running instance is.
            return text.lines().map(LOCK_FILE_LINE::matcher).filter(Matcher::matches).findFirst()
                    .map(m -> Path.of(m.group(1)))
                    .orElseGet(() -> GaleraLbConfig.defaultLockFile(file.toString()));
        }
    }

    private static boolean ownerOnly(Path file) {
        try {
            Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file);
            return TrustedFiles.ownerOnly(perms);
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        }
    }

    private static GaleraLbConfig parse(String name, String text, Context context) throws ConfigException {
        if (text.isBlank() || text.lines().allMatch(l -> l.isBlank() || l.strip().startsWith("#"))) {
            throw single(name, "the file is empty; it needs at least a 'listeners' section");
        }
        Node root;
        try (Reader r = new StringReader(text)) {
            LoaderOptions options = new LoaderOptions();
            options.setAllowDuplicateKeys(true); // reported by YamlMapping with both lines
            root = new Yaml(new SafeConstructor(options)).compose(r);
        } catch (MarkedYAMLException e) {
            int line = e.getProblemMark() == null ? 0 : e.getProblemMark().getLine() + 1;
            throw new ConfigException(List.of(new ConfigError(name, line, "", "not valid YAML: " + e.getProblem())));
        } catch (YAMLException e) {
            throw single(name, "not valid YAML: " + e.getMessage());
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        if (root == null) {
            throw single(name, "the file is empty; it needs at least a 'listeners' section");
        }
        YamlMapping.Problems problems = new YamlMapping.Problems(name);
        Optional<YamlMapping> top = YamlMapping.of(problems, "", root);
        if (top.isEmpty()) {
            throw new ConfigException(List.of(new ConfigError(name, YamlMapping.line(root), "",
                    "not a galera-lb configuration: the top level must be a mapping with a 'listeners' section, got "
                            + YamlMapping.describe(root))));
        }
        GaleraLbConfig config = readTop(top.get(), name, problems, context);
        if (!problems.errors().isEmpty()) {
            throw new ConfigException(problems.errors());
        }
        return config;
    }

    private static GaleraLbConfig readTop(YamlMapping top, String name, YamlMapping.Problems problems,
                                          Context context) {
        top.rejectUnknownKeys(TOP_KEYS);
        Duration grace = top.duration("shutdown-grace", GaleraLbConfig.DEFAULT_SHUTDOWN_GRACE, Duration.ZERO, ONE_DAY);
        Duration drain = top.duration("drain-timeout", GaleraLbConfig.DEFAULT_DRAIN_TIMEOUT, Duration.ZERO, ONE_DAY);
        Path lockFile = top.convert("lock-file", Path::of).orElse(GaleraLbConfig.defaultLockFile(name));
        OptionalInt ioThreads = top.value("io-threads").isPresent()
                ? OptionalInt.of(top.integer("io-threads", 1, 1, GaleraLbConfig.MAX_IO_THREADS)) : OptionalInt.empty();
        Duration busyPoll = top.duration("busy-poll", GaleraLbConfig.DEFAULT_BUSY_POLL, Duration.ZERO,
                GaleraLbConfig.MAX_BUSY_POLL);
        Optional<YamlMapping> admin = top.mapping("admin");
        admin.ifPresent(a -> a.rejectUnknownKeys(ADMIN_KEYS));
        HostPort adminBind = admin.flatMap(a -> a.convert("bind", HostPort::parse)).orElse(GaleraLbConfig.DEFAULT_ADMIN_BIND);
        Optional<Secret> adminToken = admin.flatMap(a -> adminToken(a, context, problems));
        if (!HostPort.isLoopback(adminBind.host()) && adminToken.isEmpty()
                && admin.flatMap(a -> a.value("token-file").or(() -> a.value("token-env"))).isEmpty()) {
            problems.add(admin.flatMap(a -> a.value("bind")).orElse(top.node()), "admin.bind",
                    "the admin API on " + adminBind + " is reachable from other hosts: set admin.token-file "
                            + "or admin.token-env");
        }
        Optional<YamlMapping> dns = top.mapping("dns");
        dns.ifPresent(d -> d.rejectUnknownKeys(DNS_KEYS));
        List<HostPort> nameservers = dns.map(d -> d.list("nameservers", ConfigLoader::nameserver)).orElse(List.of());
        Map<String, ListenerConfig> listeners = new LinkedHashMap<>();
        if (top.value("listeners").isEmpty()) {
            problems.add(top.node(), "listeners", "required key is missing: define at least one listener");
        }
        top.mapping("listeners").ifPresent(all -> {
            if (all.keys().isEmpty()) {
                problems.add(all.node(), "listeners", "define at least one listener");
            }
            for (Map.Entry<String, Node> e : all.entries()) {
                if (!checkName(all, e.getKey(), "listener", problems)) {
                    continue;
                }
                YamlMapping.of(problems, all.child(e.getKey()), e.getValue()).ifPresent(lm ->
                        readListener(e.getKey(), lm, problems, context).ifPresent(l -> {
                            for (ListenerConfig other : listeners.values()) {
                                if (other.bind().overlaps(l.bind())) {
                                    problems.add(lm.value("bind").orElseThrow(), lm.child("bind"),
                                            "bind address " + l.bind() + " is already used by listener '"
                                                    + other.name() + "' (" + other.bind() + ")");
                                }
                            }
                            listeners.putIfAbsent(l.name(), l);
                        }));
            }
        });
        for (ListenerConfig l : listeners.values()) {
            if (l.bind().overlaps(adminBind)) {
                problems.add(top.node(), "admin.bind", "admin address " + adminBind + " is also listener '"
                        + l.name() + "' (" + l.bind() + "); set admin: { bind: ... } to another port");
            }
        }
        return problems.errors().isEmpty()
                ? new GaleraLbConfig(name, adminBind, adminToken, lockFile, ioThreads, busyPoll, grace, drain,
                        listeners, nameservers)
                : null;
    }

    private static Optional<ListenerConfig> readListener(String name, YamlMapping l, YamlMapping.Problems problems,
                                                         Context context) {
        int before = problems.errors().size();
        l.rejectUnknownKeys(LISTENER_KEYS);
        Optional<HostPort> bind = l.requiredString("bind").flatMap(x -> l.convert("bind", HostPort::parse));
        Balance balance = l.word("balance", BALANCES, Balance.LEASTCONN);
        int maxConnections = l.integer("max-connections", ListenerConfig.DEFAULT_MAX_CONNECTIONS, 1, 1_000_000);
        Timeouts timeouts = l.mapping("timeouts").map(ConfigLoader::readTimeouts).orElse(Timeouts.DEFAULTS);
        Optional<HealthConfig> health = l.mapping("health").map(h -> readHealth(h, problems, context));
        OnServerDown onServerDown = l.word("on-server-down", ON_SERVER_DOWN,
                health.map(HealthConfig::type).orElse(HealthCheckType.TCP) == HealthCheckType.GALERA
                        ? OnServerDown.SHUTDOWN_SESSIONS : OnServerDown.KEEP_SESSIONS);
        Optional<String> source = l.convert("source", ConfigLoader::sourceAddress);
        SendProxy sendProxy = l.word("send-proxy", SEND_PROXY, SendProxy.OFF);
        Duration slowstart = l.duration("slowstart", Duration.ZERO, Duration.ZERO, ServerConfig.MAX_SLOWSTART);
        boolean acceptProxy = l.bool("accept-proxy", false);
        SessionLogMode sessionLog = l.word("session-log", SESSION_LOG, SessionLogMode.OFF);
        Duration resolveInterval = l.duration("resolve-interval", Duration.ZERO, Duration.ZERO,
                ListenerConfig.MAX_RESOLVE_INTERVAL);
        if (!resolveInterval.isZero() && resolveInterval.compareTo(ListenerConfig.MIN_RESOLVE_INTERVAL) < 0) {
            problems.add(l.value("resolve-interval").orElseThrow(), l.child("resolve-interval"),
                    "resolve-interval is 0s (names resolved at start only) or at least 1s");
        }
        List<Cidr> trustedProxies = l.list("trusted-proxies", Cidr::parse);
        if (acceptProxy && trustedProxies.isEmpty() && l.value("trusted-proxies").isEmpty()) {
            problems.add(l.keyNode("accept-proxy").orElseThrow(), l.child("trusted-proxies"), "accept-proxy takes a "
                    + "header only from trusted-proxies: list the load balancers in front, e.g. [10.0.0.0/24]");
        } else if (!acceptProxy && l.value("trusted-proxies").isPresent()) {
            problems.add(l.keyNode("trusted-proxies").orElseThrow(), l.child("trusted-proxies"),
                    "trusted-proxies applies with accept-proxy: true only");
        }
        boolean rebalance = l.bool("rebalance", false);
        int rebalanceRate = l.integer("rebalance-rate", ListenerConfig.DEFAULT_REBALANCE_RATE, 1,
                ListenerConfig.MAX_REBALANCE_RATE);
        if (!rebalance && l.value("rebalance-rate").isPresent()) {
            problems.add(l.keyNode("rebalance-rate").orElseThrow(), l.child("rebalance-rate"),
                    "rebalance-rate applies with rebalance: on only");
        }
        if (rebalance && balance == Balance.FIRST) {
            problems.add(l.keyNode("rebalance").orElseThrow(), l.child("rebalance"), "rebalance spreads sessions over "
                    + "servers: it applies to leastconn and roundrobin, not to first (one writer)");
        }
        Map<String, ServerConfig> servers = readServers(name, l, problems, source, sendProxy, slowstart);
        boolean failback = l.bool("failback", false);
        Optional<WriterLeaseConfig> writerLease = readWriterLease(l, problems, context);
        for (String key : List.of("failback", "writer-lease")) {
            if (balance != Balance.FIRST && l.value(key).isPresent()) {
                problems.add(l.keyNode(key).orElseThrow(), l.child(key), key + " applies to balance: first (single "
                        + "writer) only; this listener balances " + balance.yamlName());
            }
        }
        if (writerLease.isPresent() && writerLease.get().user().isEmpty()
                && health.map(h -> h.type() == HealthCheckType.TCP || h.user().isEmpty()).orElse(true)) {
            problems.add(l.keyNode("writer-lease").orElseThrow(), l.child("writer-lease"), "writer-lease reads and "
                    + "writes its table with the health check's user unless it has a user of its own: give "
                    + "writer-lease a user and a password, or health a type galera or mysql, a user and a password");
        }
        if (problems.errors().size() != before || bind.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(new ListenerConfig(name, bind.get(), balance, maxConnections, timeouts, health,
                onServerDown, failback, writerLease, servers, acceptProxy, trustedProxies, sessionLog, resolveInterval,
                rebalance ? rebalanceRate : 0));
    }

    /**
     * The servers of listener {@code name}; {@code source}, {@code sendProxy} and {@code slowstart}
     * are the listener's, which a server may override.
     */
    private static Map<String, ServerConfig> readServers(String name, YamlMapping l, YamlMapping.Problems problems,
                                                         Optional<String> source, SendProxy sendProxy,
                                                         Duration slowstart) {
        Map<String, ServerConfig> servers = new LinkedHashMap<>();
        if (l.value("servers").isEmpty()) {
            problems.add(l.node(), l.child("servers"), "listener '" + name + "' has no servers: add at least one");
        }
        l.mapping("servers").ifPresent(all -> {
            if (all.keys().isEmpty()) {
                problems.add(all.node(), all.path(), "listener '" + name + "' has no servers: add at least one");
            }
            for (Map.Entry<String, Node> e : all.entries()) {
                if (!checkName(all, e.getKey(), "server", problems)) {
                    continue;
                }
                YamlMapping.of(problems, all.child(e.getKey()), e.getValue()).ifPresent(s -> {
                    s.rejectUnknownKeys(SERVER_KEYS);
                    Optional<HostPort> address =
                            s.requiredString("address").flatMap(x -> s.convert("address", HostPort::parse));
                    int weight = s.integer("weight", 1, ServerConfig.MIN_WEIGHT, ServerConfig.MAX_WEIGHT);
                    int priority = s.integer("priority", ServerConfig.DEFAULT_PRIORITY, 0, ServerConfig.MAX_PRIORITY);
                    SendProxy header = s.word("send-proxy", SEND_PROXY, sendProxy);
                    Duration ownSlowstart = s.duration("slowstart", slowstart, Duration.ZERO, ServerConfig.MAX_SLOWSTART);
                    address.ifPresent(a -> servers.putIfAbsent(e.getKey(),
                            new ServerConfig(e.getKey(), a, weight, priority, source, header, ownSlowstart)));
                });
            }
        });
        return servers;
    }

    /**
     * {@code writer-lease: true}, or a mapping with schema, table and optionally a user of its own
     * with its password; absent or false: no lease.
     */
    private static Optional<WriterLeaseConfig> readWriterLease(YamlMapping l, YamlMapping.Problems problems,
                                                               Context context) {
        Optional<Node> given = l.value("writer-lease");
        if (given.isEmpty()) {
            return Optional.empty();
        }
        if (!(given.get() instanceof MappingNode)) {
            return l.bool("writer-lease", false) ? Optional.of(WriterLeaseConfig.DEFAULTS) : Optional.empty();
        }
        return l.mapping("writer-lease").flatMap(m -> {
            m.rejectUnknownKeys(WRITER_LEASE_KEYS);
            Optional<String> schema = m.convert("schema", ConfigLoader::identifier);
            Optional<String> table = m.convert("table", ConfigLoader::identifier);
            if (m.value("schema").isPresent() && schema.isEmpty() || m.value("table").isPresent() && table.isEmpty()) {
                return Optional.empty();
            }
            Optional<String> user = m.string("user");
            Optional<String> passwordKey = PASSWORD_KEYS.stream().filter(k -> m.value(k).isPresent()).findFirst();
            if (user.isEmpty() && passwordKey.isPresent()) {
                problems.add(m.keyNode(passwordKey.get()).orElseThrow(), m.child(passwordKey.get()), "a writer-lease "
                        + "password needs a user: without writer-lease.user the lease uses the health check's user "
                        + "and password");
                return Optional.empty();
            }
            Secret password = user.isPresent() ? readPassword(m, problems, context) : Secret.NONE;
            return Optional.of(new WriterLeaseConfig(schema.orElse(WriterLeaseConfig.DEFAULTS.schema()),
                    table.orElse(WriterLeaseConfig.DEFAULTS.table()), user, password));
        });
    }

    /** A literal IPv4 or IPv6 address (no port, no name): galera-lb binds it before connecting. */
    private static String sourceAddress(String text) {
        String t = text.strip();
        if (!HostPort.IPV4_LITERAL.matcher(t).matches() && !(t.contains(":") && t.matches("[0-9A-Fa-f:.]+"))) {
            throw new IllegalArgumentException("expected a local IP address such as 10.0.0.5 or fd00::5, got \"" + text + "\"");
        }
        try {
            InetAddress.getByName(t);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("\"" + text + "\" is not an IP address");
        }
        return t;
    }

    private static String identifier(String text) {
        if (!WriterLeaseConfig.IDENTIFIER.matcher(text).matches()) {
            throw new IllegalArgumentException("expected a plain SQL identifier (letters, digits, _ and $, "
                    + "not starting with a digit, at most 64), got \"" + text + "\"");
        }
        return text;
    }

    private static Timeouts readTimeouts(YamlMapping t) {
        t.rejectUnknownKeys(TIMEOUT_KEYS);
        Timeouts d = Timeouts.DEFAULTS;
        return new Timeouts(
                t.duration("connect", d.connect(), ONE_MS, Timeouts.MAX_CONNECT),
                t.convert("client-idle", ConfigLoader::idle).orElse(d.clientIdle()),
                t.convert("server-idle", ConfigLoader::idle).orElse(d.serverIdle()),
                t.duration("fin-timeout", d.fin(), Duration.ofMillis(100), Timeouts.MAX_FIN));
    }

    private static HealthConfig readHealth(YamlMapping h, YamlMapping.Problems problems, Context context) {
        h.rejectUnknownKeys(HEALTH_KEYS);
        HealthCheckType type = h.word("type", CHECK_TYPES, HealthCheckType.GALERA);
        Optional<String> user = h.string("user");
        if (type != HealthCheckType.TCP && h.value("user").isEmpty()) {
            problems.add(h.node(), h.child("user"), "a " + type.yamlName() + " check needs a user");
        }
        Secret password = readPassword(h, problems, context);
        Duration interval = h.duration("interval", HealthConfig.DEFAULT_INTERVAL, Duration.ofMillis(100),
                HealthConfig.MAX_INTERVAL);
        Duration fastInterval = h.duration("fast-interval", interval, Duration.ofMillis(100), HealthConfig.MAX_INTERVAL);
        Duration timeout = h.duration("timeout", HealthConfig.DEFAULT_TIMEOUT, Duration.ofMillis(10),
                HealthConfig.MAX_TIMEOUT);
        int rise = h.integer("rise", HealthConfig.DEFAULT_RISE, 1, 100);
        int fall = h.integer("fall", HealthConfig.DEFAULT_FALL, 1, 100);
        DonorPolicy donor = h.word("available-when-donor", DONOR_POLICIES, DonorPolicy.LAST_NODE);
        boolean readOnly = h.bool("available-when-read-only", false);
        OptionalInt maxRecvQueue = h.value("max-recv-queue").isPresent()
                ? OptionalInt.of(h.integer("max-recv-queue", 0, 0, Integer.MAX_VALUE))
                : OptionalInt.empty();
        return new HealthConfig(type, user, password, interval, fastInterval, timeout, rise, fall, donor,
                readOnly, maxRecvQueue,
                h.mapping("tls").map(t -> TlsReader.read(t, problems)).orElse(TlsConfig.DISABLED));
    }

    /** admin.token-file or admin.token-env (a Kubernetes Secret as an environment variable): read now, at least 16 characters. */
    private static Optional<Secret> adminToken(YamlMapping a, Context context, YamlMapping.Problems problems) {
        if (a.value("token-file").isPresent() && a.value("token-env").isPresent()) {
            problems.add(a.value("token-env").orElseThrow(), a.child("token-env"),
                    "give only one of token-file, token-env");
            return Optional.empty();
        }
        Optional<String> variable = a.string("token-env");
        if (variable.isPresent()) {
            String token = context.env().get(variable.get());
            if (token == null) {
                problems.add(a.value("token-env").orElseThrow(), a.child("token-env"), unset(variable.get()));
                return Optional.empty();
            }
            return checkedToken(a, "token-env", new Secret("env " + variable.get(), token.strip()), problems);
        }
        return a.convert("token-file", Path::of).flatMap(f -> {
            try {
                String token = new String(TrustedFiles.read(f, TrustedFiles.MAX_SECRET_BYTES, true, "token file"),
                        StandardCharsets.UTF_8).strip();
                return checkedToken(a, "token-file", new Secret("file " + f, token), problems);
            } catch (TrustedFiles.Untrusted | NoSuchFileException e) {
                problems.add(a.value("token-file").orElseThrow(), a.child("token-file"), e.getMessage());
            } catch (IOException e) {
                problems.add(a.value("token-file").orElseThrow(), a.child("token-file"),
                        "cannot read token file " + f + ": " + e.getMessage());
            }
            return Optional.empty();
        });
    }

    private static Optional<Secret> checkedToken(YamlMapping a, String key, Secret token,
                                                 YamlMapping.Problems problems) {
        if (token.value().length() < MIN_TOKEN_LENGTH) {
            problems.add(a.value(key).orElseThrow(), a.child(key), "the token from " + token.source() + " is shorter than "
                    + MIN_TOKEN_LENGTH + " characters");
            return Optional.empty();
        }
        return Optional.of(token);
    }

    /** A secret's variable that is not set, and where it is expected. */
    private static String unset(String variable) {
        return "environment variable " + variable + " is not set; the galera-lb service reads it from "
                + ENVIRONMENT_FILE + " (a line " + variable + "=...); a shell needs it exported (as root: set -a; . "
                + ENVIRONMENT_FILE + "; set +a)";
    }

    /** At most one of password, password-env, password-file; read now, so a reload reads it again. */
    private static Secret readPassword(YamlMapping h, YamlMapping.Problems problems, Context context) {
        List<String> given = PASSWORD_KEYS.stream().filter(k -> h.value(k).isPresent()).toList();
        if (given.size() > 1) {
            problems.add(h.keyNode(given.get(1)).orElseThrow(), h.child(given.get(1)),
                    "give only one of password, password-env, password-file (found " + String.join(", ", given) + ")");
            return Secret.NONE;
        }
        if (given.isEmpty()) {
            return Secret.NONE;
        }
        String key = given.get(0);
        Node at = h.value(key).orElseThrow();
        Optional<String> text = h.string(key);
        if (text.isEmpty()) {
            return Secret.NONE;
        }
        switch (key) {
            case "password":
                if (!context.ownerOnlyFile()) {
                    problems.add(at, h.child(key), "an inline password is accepted only in a file readable by its "
                            + "owner alone (chmod 600); use password-env or password-file");
                    return Secret.NONE;
                }
                return new Secret("inline", text.get());
            case "password-env": {
                String value = context.env().get(text.get());
                if (value == null) {
                    problems.add(at, h.child(key), unset(text.get()));
                    return Secret.NONE;
                }
                return new Secret("env " + text.get(), value);
            }
            default: {
                Path file = Path.of(text.get());
                try {
                    String value = new String(TrustedFiles.read(file, TrustedFiles.MAX_SECRET_BYTES, true,
                            "password file"), StandardCharsets.UTF_8);
                    // A trailing newline is what editors and `echo` add, never part of the password.
                    return new Secret("file " + file, value.endsWith("\n") ? value.stripTrailing() : value);
                } catch (NoSuchFileException | TrustedFiles.Untrusted e) {
                    problems.add(at, h.child(key), e.getMessage());
                } catch (IOException e) {
                    problems.add(at, h.child(key), "cannot read password file " + file + ": " + e.getMessage());
                }
                return Secret.NONE;
            }
        }
    }

    private static IdleTimeout idle(String text) {
        IdleTimeout t = IdleTimeout.parse(text);
        if (t.fixed().filter(d -> d.compareTo(Duration.ofSeconds(1)) < 0).isPresent()) {
            throw new IllegalArgumentException("must be at least 1s or auto, got " + text);
        }
        if (t.fixed().filter(d -> d.compareTo(Timeouts.MAX_IDLE) > 0).isPresent()) {
            throw new IllegalArgumentException("must be at most " + Durations.format(Timeouts.MAX_IDLE)
                    + " or auto, got " + text);
        }
        return t;
    }

    /**
     * Every key the loader accepts, as a dotted path with {@code NAME} for a listener's or a
     * server's name ({@code listeners.NAME.health.tls.mode}); mappings are keys too. The
     * configuration reference (docs/configuration.md) names exactly these.
     */
    public static SortedSet<String> keys() {
        SortedSet<String> keys = new TreeSet<>(TOP_KEYS);
        ADMIN_KEYS.forEach(k -> keys.add("admin." + k));
        DNS_KEYS.forEach(k -> keys.add("dns." + k));
        String listener = "listeners.NAME.";
        LISTENER_KEYS.forEach(k -> keys.add(listener + k));
        TIMEOUT_KEYS.forEach(k -> keys.add(listener + "timeouts." + k));
        HEALTH_KEYS.forEach(k -> keys.add(listener + "health." + k));
        TlsReader.KEYS.forEach(k -> keys.add(listener + "health.tls." + k));
        WRITER_LEASE_KEYS.forEach(k -> keys.add(listener + "writer-lease." + k));
        SERVER_KEYS.forEach(k -> keys.add(listener + "servers.NAME." + k));
        return Collections.unmodifiableSortedSet(keys);
    }

    /** A DNS server: an IP address and a port (53 when none is given); never a name. */
    static HostPort nameserver(String text) {
        String t = text.trim();
        long colons = t.chars().filter(c -> c == ':').count();
        HostPort hp = t.startsWith("[") || colons == 1 ? HostPort.parse(t) : new HostPort(t, 53);
        if (!HostPort.IPV4_LITERAL.matcher(hp.host()).matches() && !hp.host().matches("[0-9A-Fa-f:.]+:[0-9A-Fa-f:.]*")) {
            throw new IllegalArgumentException("a name server is an IP address with an optional port, not \""
                    + hp.host() + "\"");
        }
        return hp;
    }

    /**
     * A listener or server name: it goes into log lines, metric labels and admin API paths, so
     * it is plain (letters, digits, '.', '_', '-'; at most 64).
     */
    private static boolean checkName(YamlMapping parent, String name, String what, YamlMapping.Problems problems) {
        if (NAME.matcher(name).matches()) {
            return true;
        }
        problems.add(parent.keyNode(name).orElse(parent.node()), parent.child(printable(name)), what + " names may use "
                + "letters, digits, '.', '_' and '-' (at most 64, starting with a letter or digit), not \""
                + printable(name) + "\"");
        return false;
    }

    /** {@code text} with control characters written as {@code \\uXXXX}, fit for one log line. */
    private static String printable(String text) {
        StringBuilder sb = new StringBuilder();
        text.codePoints().forEach(c -> {
            if (Character.isISOControl(c)) {
                sb.append(String.format("\\u%04x", c));
            } else {
                sb.appendCodePoint(c);
            }
        });
        return sb.toString();
    }

    private static ConfigException single(String file, String message) {
        return new ConfigException(List.of(new ConfigError(file, 0, "", message)));
    }

    static <E> Map<String, E> words(E[] values, Function<E, String> name) {
        Map<String, E> m = new LinkedHashMap<>();
        for (E v : values) {
            m.put(name.apply(v), v);
        }
        return Collections.unmodifiableMap(m);
    }
}
