package io.galeralb.config;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Objects;

/**
 * A network as {@code trusted-proxies} names it: {@code 10.0.0.0/8}, {@code fd00::/8}, or one
 * address ({@code 192.0.2.7}, a /32 or /128). Literal addresses only: no name is resolved.
 */
public record Cidr(InetAddress network, int prefix) {

    public Cidr {
        Objects.requireNonNull(network, "network");
        int bits = network.getAddress().length * 8;
        if (prefix < 0 || prefix > bits) {
            throw new IllegalArgumentException("prefix /" + prefix + " is not between /0 and /" + bits);
        }
    }

    public static Cidr parse(String text) {
        String s = text.strip();
        int slash = s.indexOf('/');
        String address = slash < 0 ? s : s.substring(0, slash);
        if (!address.matches("[0-9.]+|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*")) {
            throw new IllegalArgumentException("\"" + text + "\" is not an IP address or network (e.g. 10.0.0.0/8)");
        }
        InetAddress network;
        try {
            network = InetAddress.getByName(address);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("\"" + text + "\" is not an IP address or network (e.g. 10.0.0.0/8)");
        }
        int bits = network.getAddress().length * 8;
        int prefix;
        try {
            prefix = slash < 0 ? bits : Integer.parseInt(s.substring(slash + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("\"" + text + "\": the prefix after / must be a number");
        }
        if (prefix < 0 || prefix > bits) {
            throw new IllegalArgumentException("\"" + text + "\": the prefix must be between /0 and /" + bits);
        }
        return new Cidr(network, prefix);
    }

    /** Whether {@code address} is in this network (an IPv4 address never matches an IPv6 network, nor the reverse). */
    public boolean contains(InetAddress address) {
        byte[] a = address.getAddress();
        byte[] n = network.getAddress();
        if (a.length != n.length) {
            return false;
        }
        int full = prefix / 8;
        for (int i = 0; i < full; i++) {
            if (a[i] != n[i]) {
                return false;
            }
        }
        int rest = prefix % 8;
        if (rest == 0) {
            return true;
        }
        int mask = 0xFF << (8 - rest) & 0xFF;
        return (a[full] & mask) == (n[full] & mask);
    }

    @Override
    public String toString() {
        return network.getHostAddress() + "/" + prefix;
    }
}
