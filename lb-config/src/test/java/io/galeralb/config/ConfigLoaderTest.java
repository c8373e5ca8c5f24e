package io.galeralb.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {

    private static final String VALID = """
            shutdown-grace: 20s
            listeners:
              app-cluster:
                bind: 0.0.0.0:3307
                balance: leastconn
                max-connections: 2000
                timeouts: { connect: 500ms, client-idle: 1m, server-idle: 8h }
                health:
                  type: galera
                  user: clustercheck
                  password-env: GALERA_LB_CHECK_PASSWORD
                  interval: 2s
                  timeout: 1s
                  rise: 2
                  fall: 3
                  available-when-donor: never
                  available-when-read-only: false
                  max-recv-queue: 100
                servers:
                  db-node-1: { address: 10.0.0.11:3306 }
                  db-node-2: { address: "[fd00::12]:3306", weight: 2 }
                  db-node-3: { address: db3.example.com:3306, weight: 256 }
              portal-cluster:
                bind: 127.0.0.1:3306
                balance: roundrobin
                servers:
                  p1: { address: 10.0.1.11:3306 }
            """;

    @Test
    void readsAFullConfiguration() throws ConfigException {
        GaleraLbConfig c = ConfigLoader.parse("lb.yaml", VALID, Map.of("GALERA_LB_CHECK_PASSWORD", "s3cret"));

        assertThat(c.shutdownGrace()).isEqualTo(Duration.ofSeconds(20));
        assertThat(c.listeners()).containsOnlyKeys("app-cluster", "portal-cluster");
        ListenerConfig app = c.listeners().get("app-cluster");
        assertThat(app.bind()).isEqualTo(new HostPort("0.0.0.0", 3307));
        assertThat(app.balance()).isEqualTo(Balance.LEASTCONN);
        assertThat(app.maxConnections()).isEqualTo(2000);
        assertThat(app.timeouts()).isEqualTo(new Timeouts(Duration.ofMillis(500), IdleTimeout.of(Duration.ofMinutes(1)),
                IdleTimeout.of(Duration.ofHours(8)), Timeouts.DEFAULT_FIN));
        assertThat(app.servers().keySet()).containsExactly("db-node-1", "db-node-2", "db-node-3");
        assertThat(app.servers().get("db-node-2").address()).isEqualTo(new HostPort("fd00::12", 3306));
        assertThat(app.servers().get("db-node-2").weight()).isEqualTo(2);
        assertThat(app.servers().get("db-node-3").address().host()).isEqualTo("db3.example.com");
        HealthConfig h = app.health().orElseThrow();
        assertThat(h.type()).isEqualTo(HealthCheckType.GALERA);
        assertThat(h.user()).contains("clustercheck");
        assertThat(h.password().value()).isEqualTo("s3cret");
        assertThat(h.password().toString()).doesNotContain("s3cret").contains("env GALERA_LB_CHECK_PASSWORD");
        assertThat(h.fastInterval()).isEqualTo(h.interval());
        assertThat(app.onServerDown()).isEqualTo(OnServerDown.SHUTDOWN_SESSIONS);
        assertThat(h.rise()).isEqualTo(2);
        assertThat(h.fall()).isEqualTo(3);
        assertThat(h.availableWhenDonor()).isEqualTo(DonorPolicy.NEVER);
        assertThat(h.maxRecvQueue()).hasValue(100);

        ListenerConfig portal = c.listeners().get("portal-cluster");
        assertThat(portal.balance()).isEqualTo(Balance.ROUNDROBIN);
        assertThat(portal.maxConnections()).isEqualTo(ListenerConfig.DEFAULT_MAX_CONNECTIONS);
        assertThat(portal.timeouts()).isEqualTo(Timeouts.DEFAULTS);
        assertThat(portal.health()).isEmpty();
        assertThat(portal.effectiveHealth().type()).isEqualTo(HealthCheckType.TCP);
        assertThat(portal.onServerDown()).isEqualTo(OnServerDown.KEEP_SESSIONS);
        assertThat(portal.servers().get("p1").weight()).isEqualTo(1);
    }

    @Test
    void unknownKeySuggestsTheNearestKnownOne() {
        ConfigError e = single("""
                listeners:
                  app:
                    bind: 127.0.0.1:3307
                    balanse: leastconn
                    servers:
                      a: { address: 127.0.0.1:3306 }
                """);
        assertThat(e.line()).isEqualTo(4);
        assertThat(e.key()).isEqualTo("listeners.app.balanse");
        assertThat(e.message()).contains("unknown key").contains("did you mean 'balance'?");
    }

    @Test
    void slowstartIsTheListenersForEachServerUnlessTheServerHasItsOwn() throws Exception {
        GaleraLbConfig c = ConfigLoader.parse("t.yaml", """
                listeners:
                  app:
                    bind: 127.0.0.1:3307
                    slowstart: 30s
                    servers:
                      a: { address: 127.0.0.1:3306 }
                      b: { address: 127.0.0.1:3316, slowstart: 0s }
                """);
        Map<String, ServerConfig> servers = c.listeners().get("app").servers();
        assertThat(servers.get("a").slowstart()).isEqualTo(Duration.ofSeconds(30));
        assertThat(servers.get("b").slowstart()).isZero();
        assertThat(ConfigLoader.parse("t.yaml", """
                listeners:
                  app:
                    bind: 127.0.0.1:3307
                    servers:
                      a: { address: 127.0.0.1:3306 }
                """).listeners().get("app").servers().get("a").slowstart()).as("off by default").isZero();
        ConfigError e = single("""
                listeners:
                  app:
                    bind: 127.0.0.1:3307
                    slowstart: 2h
                    servers:
                      a: { address: 127.0.0.1:3306 }
                """);
        assertThat(e.key()).isEqualTo("listeners.app.slowstart");
        assertThat(e.message()).contains("1h");
    }

    @Test
    void resolveIntervalIsOffByDefaultAtLeastOneSecondAndNameServersAreAddresses() throws Exception {
        GaleraLbConfig c = ConfigLoader.parse("t.yaml", """
                dns: { nameservers: [127.0.0.1:5353, 10.0.0.2, '[::1]:53'] }
                listeners:
                  app:
                    bind: 127.0.0.1:3307
                    resolve-interval: 10s
                    servers:
                      a: { address: db-0.galera:3306 }
                """);
        assertThat(c.listeners().get("app").resolveInterval()).isEqualTo(Duration.ofSeconds(10));
        assertThat(c.nameservers()).containsExactly(new HostPort("127.0.0.1", 5353), new HostPort("10.0.0.2", 53),
                new HostPort("::1", 53));
        GaleraLbConfig plain = ConfigLoader.parse("t.yaml", """
                listeners:
                  app:
                    bind: 127.0.0.1:3307
                    servers:
                      a: { address: db-0.galera:3306 }
                """);
        assertThat(plain.listeners().get("app").resolveInterval()).as("resolved at start only").isZero();
        assertThat(plain.nameservers()).as("the system's").isEmpty();

        ConfigError tooOften = single("""
                listeners:
                  app:
                    bind: 127.0.0.1:3307
                    resolve-interval: 100ms
                    servers:
                      a: { address: db-0.galera:3306 }
                """);
        assertThat(tooOften.key()).isEqualTo("listeners.app.resolve-interval");
        assertThat(tooOften.message()).contains("at least 1s");
        ConfigError byName = single("""
                dns: { nameservers: [dns.example.com] }
                listeners:
                  app:
                    bind: 127.0.0.1:3307
                    servers:
                      a: { address: db-0.galera:3306 }
                """);
        assertThat(byName.key()).isEqualTo("dns.nameservers[0]");
        assertThat(byName.message()).contains("an IP address");
    }

    @Test
    void unknownKeyFarFromAnyListsTheKnownKeys() {
        ConfigError e = single("""
                listeners:
                  app:
                    bind: 127.0.0.1:3307
                    servers:
                      a: { address: 127.0.0.1:3306, colour: blue }
                """);
        assertThat(e.line()).isEqualTo(5);
        assertThat(e.key()).isEqualTo("listeners.app.servers.a.colour");
        assertThat(e.message()).contains("known keys: address, priority, send-proxy, slowstart, weight");
    }

    @Test
    void wrongTypeIsReported() {
        ConfigError e = single("""
                listeners:
                  app:
                    bind: 127.0.0.1:3307
                    max-connections: lots
                    servers:
                      a: { address: 127.0.0.1:3306 }
                """);
        assertThat(e.line()).isEqualTo(4);
        assertThat(e.key()).isEqualTo("listeners.app.max-connections");
        assertThat(e.message()).contains("expected a whole number").contains("lots");
    }

    @Test
    void aScalarWhereAMappingBelongsIsReported() {
        ConfigError e = single("""
                listeners:
                  app:
                    bind: 127.0.0.1:3307
                    servers: 127.0.0.1:3306
                """);
        assertThat(e.line()).isEqualTo(4);
        assertThat(e.key()).isEqualTo("listeners.app.servers");
        assertThat(e.message()).contains("expected a mapping");
    }

    @Test
    void badDurationIsReported() {
        ConfigError e = single("""
                listeners:
                  app:
                    bind: 127.0.0.1:3307
                    timeouts:
                      connect: 5 seconds
                    servers:
                      a: { address: 127.0.0.1:3306 }
                """);
        assertThat(e.line()).isEqualTo(5);
        assertThat(e.key()).isEqualTo("listeners.app.timeouts.connect");
        assertThat(e.message()).contains("bad duration").contains("5 seconds");
    }

    @Test
    void durationWithoutUnitSaysSo() {
        ConfigError e = single("""
                listeners:
                  app:
                    bind: 127.0.0.1:3307
                    timeouts: { client-idle: 60 }
                    servers:
                      a: { address: 127.0.0.1:3306 }
                """);
        assertThat(e.line()).isEqualTo(4);
        assertThat(e.key()).isEqualTo("listeners.app.timeouts.client-idle");
        assertThat(e.message()).contains("no unit");
    }

    @Test
    void idleTimeoutsMayBeAuto() throws Exception {
        GaleraLbConfig c = ConfigLoader.parse("t.yaml", """
                listeners:
                  app:
                    bind: 127.0.0.1:3307
                    timeouts: { client-idle: auto, server-idle: auto }
                    servers:
                      a: { address: 127.0.0.1:3306 }
                """);
        Timeouts t = c.listeners().get("app").timeouts();
        assertThat(t.clientIdle().isAuto()).isTrue();
        assertThat(t.serverIdle().toString()).isEqualTo("auto");
        ConfigError e = single("""
                listeners:
                  app:
                    bind: 127.0.0.1:3307
                    timeouts: { client-idle: 500ms }
                    servers:
                      a: { address: 127.0.0.1:3306 }
                """);
        assertThat(e.message()).contains("must be at least 1s or auto");
    }

    @Test
    void portOutOfRangeIsReported() {
        ConfigError e = single("""
                listeners:
                  app:
                    bind: 127.0.0.1:3307
                    servers:
                      a: { address: 127.0.0.1:70000 }
                """);
        assertThat(e.line()).isEqualTo(5);
        assertThat(e.key()).isEqualTo("listeners.app.servers.a.address");
        assertThat(e.message()).contains("port 70000 out of range");
    }

    @Test
    void duplicateListenerNameIsReportedWithBothLines() {
        List<ConfigError> errors = errors("""
                listeners:
                  app:
                    bind: 127.0.0.1:3307
                    servers:
                      a: { address: 127.0.0.1:3306 }
                  app:
                    bind: 127.0.0.1:3308
                    servers:
                      a: { address: 127.0.0.1:3306 }
                """);
        assertThat(errors).anySatisfy(e -> {
            assertThat(e.line()).isEqualTo(6);
            assertThat(e.key()).isEqualTo("listeners.app");
            assertThat(e.message()).contains("duplicate key (first at line 2)");
        });
    }

    @Test
    void twoListenersOnTheSameBindAddressAreReported() {
        ConfigError e = single("""
                listeners:
                  app:
                    bind: 0.0.0.0:3307
                    servers:
                      a: { address: 127.0.0.1:3306 }
                  portal:
                    bind: 127.0.0.1:3307
                    servers:
                      a: { address: 127.0.0.1:3306 }
                """);
        assertThat(e.line()).isEqualTo(7);
        assertThat(e.key()).isEqualTo("listeners.portal.bind");
        assertThat(e.message()).contains("already used by listener 'app'");
    }

    @Test
    void listenerWithoutServersIsReported() {
        ConfigError e = single("""
                listeners:
                  app:
                    bind: 127.0.0.1:3307
                    servers: {}
                """);
        assertThat(e.line()).isEqualTo(4);
        assertThat(e.key()).isEqualTo("listeners.app.servers");
        assertThat(e.message()).contains("has no servers");
    }

    @Test
    void listenerWithoutServersKeyIsReported() {
        ConfigError e = single("""
                listeners:
                  app:
                    bind: 127.0.0.1:3307
                """);
        assertThat(e.line()).isEqualTo(3);
        assertThat(e.key()).isEqualTo("listeners.app.servers");
    }

    @Test
    void weightOutOfRangeIsReported() {
        ConfigError e = single("""
                listeners:
                  app:
                    bind: 127.0.0.1:3307
                    servers:
                      a: { address: 127.0.0.1:3306 }
                      b:
                        address: 127.0.0.1:3307
                        weight: 300
                """);
        assertThat(e.line()).isEqualTo(8);
        assertThat(e.key()).isEqualTo("listeners.app.servers.b.weight");
        assertThat(e.message()).contains("300 out of range 1-256");
    }

    @Test
    void emptyFileIsReported() {
        assertThat(single("").message()).contains("empty");
        assertThat(single("# only a comment\n\n").message()).contains("empty");
    }

    @Test
    void textThatIsNotYamlIsReportedWithItsLine() {
        ConfigError e = single("""
                listeners:
                  app:
                    bind: 127.0.0.1:3307
                   servers: [unclosed
                """);
        assertThat(e.line()).isPositive();
        assertThat(e.message()).startsWith("not valid YAML");
    }

    @Test
    void aDocumentThatIsNotAMappingIsReported() {
        ConfigError e = single("just some words\n");
        assertThat(e.line()).isEqualTo(1);
        assertThat(e.message()).contains("not a galera-lb configuration");
    }

    @Test
    void binaryFileIsReported(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("lb.yaml");
        Files.write(f, new byte[] {(byte) 0xC3, 0x28, 0x00, (byte) 0xFF});
        assertThatThrownBy(() -> ConfigLoader.load(f))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining(f.toString())
                .hasMessageContaining("not UTF-8");
    }

    @Test
    void missingFileIsReported(@TempDir Path dir) {
        Path f = dir.resolve("nope.yaml");
        assertThatThrownBy(() -> ConfigLoader.load(f)).hasMessageContaining(f + ": file not found");
    }

    @Test
    void allErrorsOfAFileAreReportedAtOnce(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("lb.yaml");
        Files.writeString(f, """
                listeners:
                  app:
                    bind: 127.0.0.1:99999
                    balance: fastest
                    servers:
                      a: { address: 127.0.0.1:3306, weight: 0 }
                  portal:
                    bind: 127.0.0.1:3306
                    servers: {}
                """, StandardCharsets.UTF_8);
        ConfigException e = org.junit.jupiter.api.Assertions.assertThrows(ConfigException.class, () -> ConfigLoader.load(f));
        assertThat(e.errors()).extracting(ConfigError::key).containsExactlyInAnyOrder(
                "listeners.app.bind", "listeners.app.balance", "listeners.app.servers.a.weight",
                "listeners.portal.servers");
        assertThat(e.errors()).allSatisfy(err -> assertThat(err.file()).isEqualTo(f.toString()));
        assertThat(e.getMessage()).startsWith("4 errors").contains(f + ":3: listeners.app.bind: port 99999 out of range");
    }

    @Test
    void healthCheckNeedsAUserAndOnePasswordSource() {
        List<ConfigError> errors = errors("""
                listeners:
                  app:
                    bind: 127.0.0.1:3307
                    health:
                      type: mysql
                      password-env: X
                      password-file: /etc/x
                      available-when-donor: sometimes
                    servers:
                      a: { address: 127.0.0.1:3306 }
                """);
        assertThat(errors).extracting(ConfigError::key).containsExactlyInAnyOrder(
                "listeners.app.health.user", "listeners.app.health.password-file",
                "listeners.app.health.available-when-donor");
    }

    private static final String WITH_PASSWORD = """
            listeners:
              app:
                bind: 127.0.0.1:3307
                health:
                  user: clustercheck
                  %s
                servers:
                  a: { address: 127.0.0.1:3306 }
            """;

    @Test
    void passwordFromAMissingEnvironmentVariableIsReported() {
        ConfigError e = single(WITH_PASSWORD.formatted("password-env: NOT_SET_ANYWHERE"));
        assertThat(e.line()).isEqualTo(6);
        assertThat(e.key()).isEqualTo("listeners.app.health.password-env");
        assertThat(e.message()).contains("environment variable NOT_SET_ANYWHERE is not set; the galera-lb service "
                + "reads it from /etc/galera-lb/environment (a line NOT_SET_ANYWHERE=...)");
    }

    @Test
    void passwordFileIsReadWithoutItsTrailingNewline(@TempDir Path dir) throws Exception {
        Path pw = dir.resolve("check.password");
        Files.writeString(pw, "pa ss\n");
        Files.setPosixFilePermissions(pw, PosixFilePermissions.fromString("rw-------"));
        GaleraLbConfig c = ConfigLoader.parse("t.yaml", WITH_PASSWORD.formatted("password-file: " + pw));
        assertThat(c.listeners().get("app").health().orElseThrow().password().value()).isEqualTo("pa ss");
        ConfigError missing = single(WITH_PASSWORD.formatted("password-file: " + dir.resolve("nope")));
        assertThat(missing.message()).contains("does not exist");
    }

    @Test
    void inlinePasswordOnlyInAFileReadableByItsOwnerAlone(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("lb.yaml");
        Files.writeString(f, WITH_PASSWORD.formatted("password: hunter2"));
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r--r--"));
        assertThatThrownBy(() -> ConfigLoader.load(f))
                .hasMessageContaining(f + ":6: listeners.app.health.password: an inline password is accepted only")
                .hasMessageNotContaining("hunter2");
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-------"));
        assertThat(ConfigLoader.load(f).listeners().get("app").health().orElseThrow().password().value())
                .isEqualTo("hunter2");
    }

    @Test
    void onServerDownIsValidated() {
        ConfigError e = single("""
                listeners:
                  app:
                    bind: 127.0.0.1:3307
                    on-server-down: kill-sessions
                    servers:
                      a: { address: 127.0.0.1:3306 }
                """);
        assertThat(e.line()).isEqualTo(4);
        assertThat(e.message()).contains("shutdown-sessions | keep-sessions");
    }

    @Test
    void processSettingsHaveDefaultsAndAreRead() throws Exception {
        GaleraLbConfig d = ConfigLoader.parse("lb.yaml", WITH_PASSWORD.formatted("type: tcp"));
        assertThat(d.adminBind()).isEqualTo(GaleraLbConfig.DEFAULT_ADMIN_BIND);
        assertThat(d.drainTimeout()).isEqualTo(GaleraLbConfig.DEFAULT_DRAIN_TIMEOUT);
        assertThat(d.lockFile()).isEqualTo(GaleraLbConfig.defaultLockFile("lb.yaml"));
        assertThat(d.ioThreads()).isEmpty();
        assertThat(d.busyPoll()).isEqualTo(Duration.ofNanos(100_000));
        assertThat(GaleraLbConfig.defaultLockFile("lb.yaml")).isNotEqualTo(GaleraLbConfig.defaultLockFile("other.yaml"));

        GaleraLbConfig c = ConfigLoader.parse("lb.yaml", "admin: { bind: '[::1]:9400' }\nlock-file: /run/lb.lock\n"
                + "drain-timeout: 5s\nio-threads: 3\nbusy-poll: 0us\n" + WITH_PASSWORD.formatted("type: tcp"));
        assertThat(c.adminBind()).isEqualTo(new HostPort("::1", 9400));
        assertThat(c.ioThreads()).hasValue(3);
        assertThat(c.busyPoll()).isZero();
        assertThat(c.lockFile()).isEqualTo(Path.of("/run/lb.lock"));
        assertThat(c.drainTimeout()).isEqualTo(Duration.ofSeconds(5));
    }

    @Test
    void proxyProtocolBothWaysWithTrustedSourcesAndAPerServerOverride() throws Exception {
        GaleraLbConfig c = ConfigLoader.parse("p.yaml", """
                listeners:
                  app:
                    bind: 127.0.0.1:3307
                    send-proxy: v2
                    accept-proxy: true
                    trusted-proxies: [10.0.0.0/8, "fd00::/8", 192.0.2.7]
                    servers:
                      a: { address: 127.0.0.1:3306 }
                      b: { address: 127.0.0.1:3308, send-proxy: off }
                      c: { address: 127.0.0.1:3309, send-proxy: v1 }
                """);
        ListenerConfig l = c.listeners().get("app");
        assertThat(l.acceptProxy()).isTrue();
        assertThat(l.trustedProxies()).extracting(Cidr::toString).containsExactly("10.0.0.0/8", "fd00:0:0:0:0:0:0:0/8",
                "192.0.2.7/32");
        assertThat(l.servers().values()).extracting(ServerConfig::sendProxy)
                .containsExactly(SendProxy.V2, SendProxy.OFF, SendProxy.V1);

        assertThat(single("""
                listeners:
                  app:
                    bind: 127.0.0.1:3307
                    accept-proxy: true
                    servers: { a: { address: 127.0.0.1:3306 } }
                """).message()).startsWith("accept-proxy takes a header only from trusted-proxies");
        ConfigError bad = single("""
                listeners:
                  app:
                    bind: 127.0.0.1:3307
                    accept-proxy: true
                    trusted-proxies: [10.0.0.0/8, lb.example.com, 10.0.0.0/33]
                    servers: { a: { address: 127.0.0.1:3306 } }
                """.replace(", 10.0.0.0/33", ""));
        assertThat(bad.key()).isEqualTo("listeners.app.trusted-proxies[1]");
        assertThat(bad.message()).contains("\"lb.example.com\" is not an IP address or network");
        assertThat(errors("""
                listeners:
                  app:
                    bind: 127.0.0.1:3307
                    send-proxy: v3
                    trusted-proxies: [10.0.0.0/33]
                    servers: { a: { address: 127.0.0.1:3306 } }
                """)).extracting(ConfigError::message).containsExactlyInAnyOrder(
                "\"v3\" is not one of off | v1 | v2; did you mean 'v1'?",
                "\"10.0.0.0/33\": the prefix must be between /0 and /32",
                "trusted-proxies applies with accept-proxy: true only");
    }

    @Test
    void healthTlsReadsItsCaAndClientCertificateAtLoadAndNamesWhatIsWrong(@TempDir Path dir) throws Exception {
        // A self-signed certificate and its PKCS#8 key, and the same key in the older PKCS#1 form, by openssl.
        Path cert = dir.resolve("client.pem");
        Path key = dir.resolve("client-key.pem");
        Path rsaKey = dir.resolve("client-rsa-key.pem");
        run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=t",
                "-keyout", key.toString(), "-out", cert.toString());
        run("openssl", "rsa", "-in", key.toString(), "-traditional", "-out", rsaKey.toString());
        for (Path p : List.of(key, rsaKey)) {
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rw-------"));
        }
        String tls = "      tls: { mode: verify-full, ca-file: %s, cert-file: %s, key-file: %s }\n";
        GaleraLbConfig c = ConfigLoader.parse("t.yaml", WITH_PASSWORD.formatted("password-env: P\n"
                + tls.formatted(cert, cert, key)), Map.of("P", "p"));
        TlsConfig t = c.listeners().get("app").health().orElseThrow().tls();
        assertThat(t.mode()).isEqualTo(TlsConfig.Mode.VERIFY_FULL);
        assertThat(t.caFile().orElseThrow().pem()).startsWith("-----BEGIN CERTIFICATE-----");
        assertThat(t.clientCertificate().orElseThrow().chain()).hasSize(1);

        assertThat(messages(tls.formatted(cert, cert, rsaKey))).singleElement().asString()
                .contains("holds no PKCS#8 key").contains("openssl pkcs8 -topk8 -nocrypt");
        assertThat(messages("      tls: { mode: required, ca-file: " + cert + ", cert-file: " + cert + " }\n"))
                .containsExactlyInAnyOrder("ca-file is used by mode verify-ca or verify-full only; this mode is required",
                        "give cert-file and key-file together");
        assertThat(messages("      tls: { ca-file: " + key + " }\n")).singleElement().asString()
                .contains("holds no PEM certificate");
    }

    private static List<String> messages(String tlsLine) {
        String yaml = WITH_PASSWORD.formatted("password-env: P\n" + tlsLine);
        try {
            ConfigLoader.parse("test.yaml", yaml, Map.of("P", "p"));
        } catch (ConfigException e) {
            return e.errors().stream().map(ConfigError::message).toList();
        }
        throw new AssertionError("expected the configuration to be rejected:\n" + yaml);
    }

    private static void run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as(String.join(" ", command) + ":\n" + out).isZero();
    }

    @Test
    void aCidrContainsTheAddressesOfItsPrefixOnly() throws Exception {
        Cidr net = Cidr.parse("10.1.2.0/23");
        assertThat(net.contains(java.net.InetAddress.getByName("10.1.3.255"))).isTrue();
        assertThat(net.contains(java.net.InetAddress.getByName("10.1.4.0"))).isFalse();
        assertThat(net.contains(java.net.InetAddress.getByName("::1"))).as("another family").isFalse();
        assertThat(Cidr.parse("::1").contains(java.net.InetAddress.getByName("::1"))).isTrue();
        assertThat(Cidr.parse("0.0.0.0/0").contains(java.net.InetAddress.getByName("203.0.113.9"))).isTrue();
    }

    @Test
    void theAdminApiNeedsATokenOffLoopbackAndStaysOffTheListenersPorts(@TempDir Path dir) throws Exception {
        ConfigError remote = single("admin: { bind: 0.0.0.0:9307 }\n" + WITH_PASSWORD.formatted("type: tcp"));
        assertThat(remote.line()).isEqualTo(1);
        assertThat(remote.key()).isEqualTo("admin.bind");
        assertThat(remote.message()).contains("reachable from other hosts: set admin.token-file");
        Path token = dir.resolve("admin.token");
        Files.writeString(token, "0123456789abcdef0123\n");
        Files.setPosixFilePermissions(token, PosixFilePermissions.fromString("rw-------"));
        GaleraLbConfig withToken = ConfigLoader.parse("t.yaml", "admin: { bind: 0.0.0.0:9307, token-file: " + token
                + " }\n" + WITH_PASSWORD.formatted("type: tcp"));
        assertThat(withToken.adminToken().orElseThrow().value()).isEqualTo("0123456789abcdef0123");
        Files.writeString(token, "short");
        assertThat(single("admin: { token-file: " + token + " }\n" + WITH_PASSWORD.formatted("type: tcp")).message())
                .contains("shorter than 16 characters");
        GaleraLbConfig fromEnv = ConfigLoader.parse("t.yaml", "admin: { bind: 0.0.0.0:9307, token-env: T }\n"
                + WITH_PASSWORD.formatted("type: tcp"), Map.of("T", "a-kubernetes-secret-token\n"));
        assertThat(fromEnv.adminToken().orElseThrow().value()).as("as a Secret in an environment variable")
                .isEqualTo("a-kubernetes-secret-token");
        assertThat(single("admin: { bind: 0.0.0.0:9307, token-env: UNSET_T }\n" + WITH_PASSWORD.formatted("type: tcp"))
                .message()).startsWith("environment variable UNSET_T is not set; the galera-lb service reads it from");
        ConfigError both = single("admin: { token-file: " + token + ", token-env: T }\n" + WITH_PASSWORD.formatted("type: tcp"));
        assertThat(both.key()).isEqualTo("admin.token-env");
        assertThat(both.message()).isEqualTo("give only one of token-file, token-env");
        ConfigError clash = single("admin: { bind: 127.0.0.1:3307 }\n" + WITH_PASSWORD.formatted("type: tcp"));
        assertThat(clash.key()).isEqualTo("admin.bind");
        assertThat(clash.message()).contains("is also listener 'app'");
    }

    @Test
    void ioThreadsMustBeAPositiveWholeNumber() {
        for (String bad : List.of("0", "two", "1.5", "100000")) {
            ConfigError e = single("shutdown-grace: 5s\nio-threads: " + bad + "\n" + WITH_PASSWORD.formatted("type: tcp"));
            assertThat(e.line()).isEqualTo(2);
            assertThat(e.key()).isEqualTo("io-threads");
            assertThat(e.message()).containsAnyOf("out of range 1-1024", "expected a whole number");
        }
    }

    @Test
    void busyPollIsAShortDuration() {
        for (String bad : List.of("2ms", "100", "fast")) {
            ConfigError e = single("shutdown-grace: 5s\nbusy-poll: " + bad + "\n" + WITH_PASSWORD.formatted("type: tcp"));
            assertThat(e.line()).isEqualTo(2);
            assertThat(e.key()).isEqualTo("busy-poll");
            assertThat(e.message()).containsAnyOf("must be at most 1ms, got 2ms", "has no unit", "bad duration");
        }
    }

    @Test
    void theLockFileIsFoundEvenInAnInvalidFile(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("lb.yaml");
        Files.writeString(f, "lock-file: /run/x.lock\nlisteners: nonsense\n");
        assertThat(ConfigLoader.lockFileOf(f)).isEqualTo(Path.of("/run/x.lock"));
        Files.writeString(f, "{{{ not yaml");
        assertThat(ConfigLoader.lockFileOf(f)).isEqualTo(GaleraLbConfig.defaultLockFile(f.toString()));
    }

    @Test
    void aFileThatIsNotValidYamlStillNamesItsLockFile(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("lb.yaml");
        Files.writeString(f, "listeners: [ unclosed\nlock-file: '/run/y.lock'   # here\n");
        assertThat(ConfigLoader.lockFileOf(f)).isEqualTo(Path.of("/run/y.lock"));
    }

    @Test
    void everyDurationHasARangeCheckedAtLoadSoThatNoneOverflowsWhereItIsUsed() {
        Map<String, String> tooLong = new LinkedHashMap<>();
        tooLong.put("timeouts: { client-idle: 999999999d }", "listeners.app.timeouts.client-idle: must be at most 30d or auto");
        tooLong.put("timeouts: { server-idle: 106752d }", "listeners.app.timeouts.server-idle: must be at most 30d or auto");
        tooLong.put("timeouts: { connect: 1h }", "listeners.app.timeouts.connect: must be at most 5m");
        tooLong.put("timeouts: { fin-timeout: 2h }", "listeners.app.timeouts.fin-timeout: must be at most 1h");
        tooLong.put("health: { type: tcp, timeout: 30d }", "listeners.app.health.timeout: must be at most 5m");
        tooLong.put("health: { type: tcp, interval: 2d }", "listeners.app.health.interval: must be at most 1h");
        for (Map.Entry<String, String> e : tooLong.entrySet()) {
            String yaml = """
                    listeners:
                      app:
                        bind: 127.0.0.1:3307
                        %s
                        servers: { n1: { address: 127.0.0.1:3306 } }
                    """.formatted(e.getKey());
            ConfigError error = single(yaml);
            assertThat(error.line()).as(e.getKey()).isEqualTo(4);
            assertThat(error.key() + ": " + error.message()).as(e.getKey()).startsWith(e.getValue());
        }
        for (String top : List.of("shutdown-grace: 2d", "drain-timeout: 999999999d")) {
            assertThat(single(top + "\n" + WITH_PASSWORD.formatted("type: tcp")).message()).as(top)
                    .contains("must be at most 1d");
        }
    }

    @Test
    @Timeout(60)
    void secretFilesAreSmallPrivateRegularFilesAndNothingBlocksOrFillsMemory(@TempDir Path dir) throws Exception {
        Path fifo = dir.resolve("fifo");
        assertThat(new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor()).isZero();
        Path big = dir.resolve("big");
        Files.write(big, new byte[5000]);
        Files.setPosixFilePermissions(big, PosixFilePermissions.fromString("rw-------"));
        Path shared = dir.resolve("shared");
        Files.writeString(shared, "0123456789abcdef0123\n");
        Files.setPosixFilePermissions(shared, PosixFilePermissions.fromString("rw-r--r--"));
        Map<Path, String> bad = new LinkedHashMap<>();
        bad.put(fifo, "is not a regular file");
        bad.put(Path.of("/dev/zero"), "is not a regular file");
        bad.put(big, "is 5000 bytes; at most 4096 are read");
        bad.put(shared, "is accessible to group or others (mode rw-r--r--): chmod 600 it");
        for (Map.Entry<Path, String> e : bad.entrySet()) {
            assertThat(single(WITH_PASSWORD.formatted("password-file: " + e.getKey())).message()).as(e.getKey().toString())
                    .startsWith("password file " + e.getKey()).contains(e.getValue());
            assertThat(single("admin: { token-file: " + e.getKey() + " }\n" + WITH_PASSWORD.formatted("type: tcp"))
                    .message()).as(e.getKey().toString()).startsWith("token file " + e.getKey()).contains(e.getValue());
        }
        for (Path config : List.of(fifo, Path.of("/dev/zero"))) {
            assertThatThrownBy(() -> ConfigLoader.load(config)).as(config.toString())
                    .hasMessageContaining("configuration file " + config + " is not a regular file");
            assertThat(ConfigLoader.lockFileOf(config)).isEqualTo(GaleraLbConfig.defaultLockFile(config.toString()));
        }
    }

    @Test
    void onlyLoopbackAddressesCountAsLoopbackNotNamesThatLookLikeThem() {
        for (String host : List.of("127.0.0.1", "127.8.9.10", "::1", "localhost")) {
            assertThat(HostPort.isLoopback(host)).as(host).isTrue();
        }
        for (String host : List.of("127.example.invalid", "127.0.0.1.nip.io", "10.0.0.1", "0.0.0.0", "::", "db1")) {
            assertThat(HostPort.isLoopback(host)).as(host).isFalse();
        }
        ConfigError e = single("admin: { bind: '127.example.invalid:9307' }\n" + WITH_PASSWORD.formatted("type: tcp"));
        assertThat(e.message()).contains("reachable from other hosts: set admin.token-file");
    }

    @Test
    void listenerAndServerNamesAreAPlainWordSoNoneForgesALogLine() {
        ConfigError listener = single("""
                listeners:
                  "app\\nINFO reload: generation 9 applied":
                    bind: 127.0.0.1:3307
                    servers: { n1: { address: 127.0.0.1:3306 } }
                """);
        assertThat(listener.line()).isEqualTo(2);
        assertThat(listener.message()).isEqualTo("listener names may use letters, digits, '.', '_' and '-' (at most 64, "
                + "starting with a letter or digit), not \"app\\u000aINFO reload: generation 9 applied\"")
                .doesNotContain("\n");
        ConfigError server = single("""
                listeners:
                  app:
                    bind: 127.0.0.1:3307
                    servers: { "n/1": { address: 127.0.0.1:3306 } }
                """);
        assertThat(server.message()).startsWith("server names may use letters");
    }

    @Test
    void sourceIsALocalIpAddressGivenToEveryServerOfTheListener() throws Exception {
        GaleraLbConfig c = ConfigLoader.parse("t.yaml", """
                listeners:
                  app:
                    bind: 127.0.0.1:3307
                    source: 127.0.0.2
                    servers: { n1: { address: 127.0.0.1:3306 }, n2: { address: 127.0.0.1:3316 } }
                """);
        assertThat(c.listeners().get("app").servers().values()).extracting(ServerConfig::source)
                .containsOnly(Optional.of("127.0.0.2"));
        for (String bad : List.of("db1.example.com", "127.0.0.2:0", "300.1.1.1")) {
            ConfigError e = single("""
                    listeners:
                      app:
                        bind: 127.0.0.1:3307
                        source: "%s"
                        servers: { n1: { address: 127.0.0.1:3306 } }
                    """.formatted(bad));
            assertThat(e.key()).as(bad).isEqualTo("listeners.app.source");
            assertThat(e.message()).as(bad).containsAnyOf("expected a local IP address", "is not an IP address");
        }
    }

    @Test
    void missingListenersSectionIsReported() {
        ConfigError e = single("shutdown-grace: 5s\n");
        assertThat(e.key()).isEqualTo("listeners");
        assertThat(e.message()).contains("required key is missing");
    }

    private static final String SINGLE_WRITER = """
            listeners:
              rw:
                bind: 127.0.0.1:3307
                balance: first
                failback: true
                writer-lease: { schema: lb_state, table: rw_writer }
                health: { type: galera, user: clustercheck, password-env: P }
                servers:
                  a: { address: 127.0.0.1:3306, priority: 2 }
                  b: { address: 127.0.0.1:3316 }
              rw-defaults:
                bind: 127.0.0.1:3308
                balance: first
                writer-lease: true
                health: { type: galera, user: clustercheck, password-env: P }
                servers:
                  a: { address: 127.0.0.1:3306 }
            """;

    @Test
    void readsASingleWriterListener() throws ConfigException {
        GaleraLbConfig c = ConfigLoader.parse("lb.yaml", SINGLE_WRITER, Map.of("P", "x"));
        ListenerConfig rw = c.listeners().get("rw");
        assertThat(rw.balance()).isEqualTo(Balance.FIRST);
        assertThat(rw.failback()).isTrue();
        assertThat(rw.writerLease()).contains(new WriterLeaseConfig("lb_state", "rw_writer"));
        assertThat(rw.servers().get("a").priority()).isEqualTo(2);
        assertThat(rw.servers().get("b").priority()).isEqualTo(ServerConfig.DEFAULT_PRIORITY);
        ListenerConfig defaults = c.listeners().get("rw-defaults");
        assertThat(defaults.failback()).isFalse();
        assertThat(defaults.writerLease()).contains(WriterLeaseConfig.DEFAULTS);
        assertThat(defaults.writerLease().orElseThrow().qualifiedTable()).isEqualTo("`galera_lb`.`writer_lease`");
    }

    @Test
    void failbackAndWriterLeaseOnAnotherBalanceAreRefusedWithTheirLines() {
        List<ConfigError> e = errors("""
                listeners:
                  app:
                    bind: 127.0.0.1:3307
                    balance: leastconn
                    failback: true
                    writer-lease: true
                    health: { type: galera, user: clustercheck }
                    servers:
                      a: { address: 127.0.0.1:3306 }
                """);
        assertThat(e).extracting(ConfigError::line).containsExactly(5, 6);
        assertThat(e).extracting(ConfigError::key).containsExactly("listeners.app.failback", "listeners.app.writer-lease");
        assertThat(e.get(0).message()).contains("applies to balance: first").contains("balances leastconn");
    }

    @Test
    void writerLeaseNeedsAnSqlUserAndPlainIdentifiers() {
        ConfigError noUser = single("""
                listeners:
                  rw:
                    bind: 127.0.0.1:3307
                    balance: first
                    writer-lease: true
                    health: { type: tcp }
                    servers:
                      a: { address: 127.0.0.1:3306 }
                """);
        assertThat(noUser.line()).isEqualTo(5);
        assertThat(noUser.message()).contains("health check's user").contains("a user of its own");

        ConfigError badTable = single("""
                listeners:
                  rw:
                    bind: 127.0.0.1:3307
                    balance: first
                    writer-lease: { table: "lease; DROP TABLE x" }
                    health: { type: galera, user: clustercheck }
                    servers:
                      a: { address: 127.0.0.1:3306 }
                """);
        assertThat(badTable.key()).isEqualTo("listeners.rw.writer-lease.table");
        assertThat(badTable.message()).contains("plain SQL identifier");
    }

    @Test
    void aWriterLeaseMayHaveAUserOfItsOwnSoThatTheCheckUserStaysReadOnly() throws ConfigException {
        GaleraLbConfig c = ConfigLoader.parse("lb.yaml", """
                listeners:
                  rw:
                    bind: 127.0.0.1:3307
                    balance: first
                    writer-lease: { table: rw_writer, user: lease_writer, password-env: L }
                    health: { type: galera, user: clustercheck, password-env: P }
                    servers:
                      a: { address: 127.0.0.1:3306 }
                  tcp-checked:
                    bind: 127.0.0.1:3308
                    balance: first
                    writer-lease: { user: lease_writer, password-env: L }
                    health: { type: tcp }
                    servers:
                      a: { address: 127.0.0.1:3306 }
                """, Map.of("P", "check-secret", "L", "lease-secret"));
        WriterLeaseConfig lease = c.listeners().get("rw").writerLease().orElseThrow();
        assertThat(lease.table()).isEqualTo("rw_writer");
        assertThat(lease.user()).hasValue("lease_writer");
        assertThat(lease.password().value()).isEqualTo("lease-secret");
        assertThat(lease.password().toString()).doesNotContain("lease-secret");
        // With a user of its own the lease needs nothing of the health check.
        assertThat(c.listeners().get("tcp-checked").writerLease().orElseThrow().user()).hasValue("lease_writer");
        // Without one it keeps using the health check's user and password.
        assertThat(WriterLeaseConfig.DEFAULTS.user()).isEmpty();
    }

    @Test
    void aWriterLeasePasswordWithoutAUserIsRefusedWithItsLine() {
        ConfigError e = single("""
                listeners:
                  rw:
                    bind: 127.0.0.1:3307
                    balance: first
                    writer-lease: { password-file: /etc/galera-lb/lease.password }
                    health: { type: galera, user: clustercheck }
                    servers:
                      a: { address: 127.0.0.1:3306 }
                """);
        assertThat(e.line()).isEqualTo(5);
        assertThat(e.key()).isEqualTo("listeners.rw.writer-lease.password-file");
        assertThat(e.message()).contains("needs a user");
    }

    @Test
    void priorityIsAWholeNumberInRange() {
        ConfigError e = single("""
                listeners:
                  rw:
                    bind: 127.0.0.1:3307
                    balance: first
                    servers:
                      a: { address: 127.0.0.1:3306, priority: -1 }
                """);
        assertThat(e.key()).isEqualTo("listeners.rw.servers.a.priority");
        assertThat(e.message()).contains("out of range 0-1000");
    }

    private static ConfigError single(String yaml) {
        List<ConfigError> errors = errors(yaml);
        assertThat(errors).hasSize(1);
        assertThat(errors.get(0).file()).isEqualTo("test.yaml");
        return errors.get(0);
    }

    private static List<ConfigError> errors(String yaml) {
        try {
            ConfigLoader.parse("test.yaml", yaml);
        } catch (ConfigException e) {
            return e.errors();
        }
        throw new AssertionError("expected the configuration to be rejected:\n" + yaml);
    }
}
