package io.galeralb.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class HostPortTest {

    @Test
    void parsesIpv4Ipv6AndNames() {
        assertThat(HostPort.parse("10.0.0.11:3306")).isEqualTo(new HostPort("10.0.0.11", 3306));
        assertThat(HostPort.parse("[::1]:3307")).isEqualTo(new HostPort("::1", 3307));
        assertThat(HostPort.parse("[fe80::1%eth0]:3307").host()).isEqualTo("fe80::1%eth0");
        assertThat(HostPort.parse("db-node-1.example.com:3306")).isEqualTo(new HostPort("db-node-1.example.com", 3306));
        assertThat(HostPort.parse("[::1]:3307").toString()).isEqualTo("[::1]:3307");
    }

    @Test
    void rejectsMalformedAddresses() {
        assertThatThrownBy(() -> HostPort.parse("::1:3307")).hasMessageContaining("need brackets");
        assertThatThrownBy(() -> HostPort.parse("db1")).hasMessageContaining("missing port");
        assertThatThrownBy(() -> HostPort.parse(":3306")).hasMessageContaining("missing host");
        assertThatThrownBy(() -> HostPort.parse("db1:0")).hasMessageContaining("out of range");
        assertThatThrownBy(() -> HostPort.parse("db1:http")).hasMessageContaining("not a number");
        assertThatThrownBy(() -> HostPort.parse("[::1]3307")).hasMessageContaining("missing port");
        assertThatThrownBy(() -> HostPort.parse("bad host:1")).hasMessageContaining("not a valid host");
    }

    @Test
    void wildcardOverlapsEveryAddressOnItsPort() {
        HostPort any = HostPort.parse("0.0.0.0:3307");
        assertThat(any.overlaps(HostPort.parse("127.0.0.1:3307"))).isTrue();
        assertThat(any.overlaps(HostPort.parse("127.0.0.1:3306"))).isFalse();
        assertThat(HostPort.parse("127.0.0.1:3307").overlaps(HostPort.parse("127.0.0.2:3307"))).isFalse();
    }
}
