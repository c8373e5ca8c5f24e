package io.galeralb.core;

import io.galeralb.config.SendProxy;
import io.netty.handler.codec.haproxy.HAProxyCommand;
import io.netty.handler.codec.haproxy.HAProxyMessage;
import io.netty.handler.codec.haproxy.HAProxyProtocolVersion;
import io.netty.handler.codec.haproxy.HAProxyProxiedProtocol;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;

/** The PROXY header of a session's connection to its server, naming the client and where it connected to. */
final class ProxyHeaders {

    private ProxyHeaders() {
    }

    /**
     * A {@code PROXY} header for {@code client} → {@code destination}. The two addresses are of
     * one family in a header: when they differ (an IPv4 client on a dual-stack listener), the
     * IPv4 one is written IPv4-mapped and the header is TCP6.
     */
    static HAProxyMessage of(SendProxy version, InetSocketAddress client, InetSocketAddress destination) {
        InetAddress src = client.getAddress();
        InetAddress dst = destination.getAddress();
        boolean v4 = src instanceof Inet4Address && dst instanceof Inet4Address;
        return new HAProxyMessage(version == SendProxy.V1 ? HAProxyProtocolVersion.V1 : HAProxyProtocolVersion.V2,
                HAProxyCommand.PROXY, v4 ? HAProxyProxiedProtocol.TCP4 : HAProxyProxiedProtocol.TCP6,
                text(src, v4), text(dst, v4), client.getPort(), destination.getPort());
    }

    private static String text(InetAddress a, boolean v4) {
        if (v4 || !(a instanceof Inet4Address)) {
            return a.getHostAddress();
        }
        return "::ffff:" + a.getHostAddress();
    }
}
