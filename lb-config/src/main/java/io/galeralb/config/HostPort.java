package io.galeralb.config;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A host and port as written in the configuration: an IPv4 address, a bracketed IPv6
 * address ({@code [::1]:3307}) or a host name. Names are not resolved here.
 */
public record HostPort(String host, int port) {

    private static final Pattern HOST_NAME =
            Pattern.compile("(?i)[a-z0-9_]([a-z0-9_-]{0,62})(\\.[a-z0-9_]([a-z0-9_-]{0,62}))*\\.?");
    static final Pattern IPV4_LITERAL = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");
    private static final Pattern IPV6 = Pattern.compile("(?i)[0-9a-f:.]+(%[a-z0-9_.-]+)?");

    public HostPort {
        Objects.requireNonNull(host, "host");
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port " + port + " out of range");
        }
    }

    /**
     * Parses {@code host:port}.
     *
     * @throws IllegalArgumentException with a message fit for an operator
     */
    public static HostPort parse(String text) {
        Objects.requireNonNull(text, "text");
        String s = text.trim();
        String host;
        String portText;
        if (s.startsWith("[")) {
            int close = s.indexOf(']');
            if (close < 0) {
                throw new IllegalArgumentException("missing ']' in IPv6 address \"" + text + "\"");
            }
            host = s.substring(1, close);
            if (close + 1 >= s.length() || s.charAt(close + 1) != ':') {
                throw new IllegalArgumentException("missing port in \"" + text + "\" (expected [address]:port)");
            }
            portText = s.substring(close + 2);
            if (!host.contains(":") || !IPV6.matcher(host).matches()) {
                throw new IllegalArgumentException("\"" + host + "\" is not an IPv6 address");
            }
        } else {
            int colon = s.lastIndexOf(':');
            if (colon < 0) {
                throw new IllegalArgumentException("missing port in \"" + text + "\" (expected host:port)");
            }
            host = s.substring(0, colon);
            portText = s.substring(colon + 1);
            if (host.contains(":")) {
                throw new IllegalArgumentException(
                        "IPv6 addresses need brackets: \"[" + host + "]:" + portText + "\"");
            }
            if (host.isEmpty()) {
                throw new IllegalArgumentException("missing host in \"" + text + "\" (expected host:port)");
            }
            if (!HOST_NAME.matcher(host).matches()) {
                throw new IllegalArgumentException("\"" + host + "\" is not a valid host name or address");
            }
        }
        int port;
        try {
            port = Integer.parseInt(portText);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("port \"" + portText + "\" is not a number");
        }
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port " + port + " out of range 1-65535");
        }
        return new HostPort(host, port);
    }

    /**
     * Whether {@code host} is a loopback address: {@code localhost} or a literal address in
     * 127.0.0.0/8 or ::1. Any other name may resolve anywhere, so it is not.
     */
    public static boolean isLoopback(String host) {
        if (host.equalsIgnoreCase("localhost")) {
            return true;
        }
        if (!IPV4_LITERAL.matcher(host).matches() && !host.contains(":")) {
            return false;
        }
        try {
            // A literal: parsed, never looked up.
            return InetAddress.getByName(host).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }

    /** True for the any-address hosts ({@code 0.0.0.0}, {@code ::}), which overlap every address. */
    public boolean isWildcard() {
        return host.equals("0.0.0.0") || host.equals("::");
    }

    /** True when two bind addresses cannot both be bound: same port and same or wildcard host. */
    public boolean overlaps(HostPort other) {
        return port == other.port && (host.equalsIgnoreCase(other.host) || isWildcard() || other.isWildcard());
    }

    @Override
    public String toString() {
        return host.contains(":") ? "[" + host + "]:" + port : host + ":" + port;
    }
}
