package io.galeralb.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class ConfigDiffTest {

    private static GaleraLbConfig parse(String yaml) throws ConfigException {
        return ConfigLoader.parse("lb.yaml", yaml);
    }

    private static final String BASE = """
            listeners:
              app:
                bind: 127.0.0.1:3307
                servers:
                  db1: { address: 10.0.0.1:3306 }
                  db2: { address: 10.0.0.2:3306 }
              old:
                bind: 127.0.0.1:3308
                servers:
                  x: { address: 10.0.0.9:3306 }
            """;

    @Test
    void theSameConfigurationChangesNothing() throws Exception {
        ConfigDiff d = ConfigDiff.between(parse(BASE), parse(BASE));
        assertThat(d.isEmpty()).isTrue();
        assertThat(d.summary()).isEqualTo("no changes");
    }

    @Test
    void aNewSourceAddressChangesTheListenersServersInPlace() throws Exception {
        ConfigDiff d = ConfigDiff.between(parse(BASE), parse(BASE.replaceFirst("    servers:", "    source: 127.0.0.2\n    servers:")));
        assertThat(d.listenersChanged()).containsOnlyKeys("app");
        assertThat(d.listenersChanged().get("app").serversChanged()).isNotEmpty();
        assertThat(d.listenersChanged().get("app").serversAdded()).isEmpty();
    }

    @Test
    void sendProxyChangesServersInPlaceAndAcceptProxyIsASetting() throws Exception {
        ConfigDiff d = ConfigDiff.between(parse(BASE), parse(BASE.replaceFirst("    servers:",
                "    send-proxy: v2\n    accept-proxy: true\n    trusted-proxies: [10.0.0.0/8]\n    servers:")));
        ConfigDiff.ListenerChange app = d.listenersChanged().get("app");
        assertThat(app.serversChanged()).containsExactly("db1", "db2");
        assertThat(app.serversAdded()).isEmpty();
        assertThat(app.settingsChanged()).containsExactly("accept-proxy");
    }

    @Test
    void listenersAndServersAddedRemovedAndChanged() throws Exception {
        ConfigDiff d = ConfigDiff.between(parse(BASE), parse("""
                drain-timeout: 5s
                listeners:
                  app:
                    bind: 127.0.0.1:3307
                    balance: roundrobin
                    servers:
                      db2: { address: 10.0.0.2:3306, weight: 3 }
                      db3: { address: 10.0.0.3:3306 }
                  new:
                    bind: 127.0.0.1:3309
                    servers:
                      y: { address: 10.0.0.8:3306 }
                """));
        assertThat(d.listenersAdded()).containsExactly("new");
        assertThat(d.listenersRemoved()).containsExactly("old");
        ConfigDiff.ListenerChange app = d.listenersChanged().get("app");
        assertThat(app.serversAdded()).containsExactly("db3");
        assertThat(app.serversRemoved()).containsExactly("db1");
        assertThat(app.serversChanged()).containsExactly("db2");
        assertThat(app.settingsChanged()).containsExactly("balance");
        assertThat(d.settingsChanged()).containsExactly("drain-timeout");
        assertThat(d.summary()).isEqualTo(
                "listeners +new -old; app: servers +db3 -db1 ~db2; changed balance; changed drain-timeout");
    }

    @Test
    void settingsTheProcessKeepsUntilRestartedAreStillReported() throws Exception {
        ConfigDiff d = ConfigDiff.between(parse(BASE), parse("io-threads: 1\nlock-file: /run/other.lock\n" + BASE));
        assertThat(d.settingsChanged()).containsExactly("lock-file", "io-threads");
        assertThat(d.summary()).isEqualTo("changed lock-file, io-threads");
        assertThat(ConfigDiff.between(parse(BASE), parse("busy-poll: 0us\n" + BASE)).settingsChanged())
                .containsExactly("busy-poll");
        assertThat(ConfigDiff.between(parse("io-threads: 2\n" + BASE), parse("io-threads: 2\n" + BASE)).isEmpty()).isTrue();
    }

    @Test
    void aNewAddressIsANewListenerOrServer() throws Exception {
        ConfigDiff d = ConfigDiff.between(parse(BASE), parse(BASE
                .replace("bind: 127.0.0.1:3308", "bind: 127.0.0.1:3318")
                .replace("10.0.0.1:3306", "10.0.0.11:3306")));
        assertThat(d.listenersRemoved()).containsExactly("old");
        assertThat(d.listenersAdded()).containsExactly("old");
        assertThat(d.listenersChanged().get("app").serversRemoved()).isEqualTo(List.of("db1"));
        assertThat(d.listenersChanged().get("app").serversAdded()).isEqualTo(List.of("db1"));
    }

    @Test
    void healthChangesAreSeen() throws Exception {
        String withHealth = BASE.replace("    servers:\n      db1", "    health: { type: tcp, interval: 1s }\n    servers:\n      db1");
        ConfigDiff d = ConfigDiff.between(parse(BASE), parse(withHealth));
        assertThat(d.listenersChanged().get("app").healthChanged()).isTrue();
    }
}
