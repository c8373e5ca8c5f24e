package io.galeralb.health;

import io.galeralb.config.TlsConfig;
import java.util.Properties;
import java.security.cert.CertificateException;
import javax.net.ssl.SSLException;

/** health.tls as MariaDB Connector/J's options, for every connection galera-lb makes to a node itself. */
public final class DriverTls {

    private DriverTls() {
    }

    /** Sets {@code sslMode} and, with a CA file, {@code serverSslCert} to its PEM text as loaded. */
    public static void apply(Properties properties, TlsConfig tls) {
        properties.setProperty("sslMode", tls.mode().driverMode());
        tls.caFile().ifPresent(ca -> properties.setProperty("serverSslCert", ca.pem()));
    }

    /**
     * What went wrong with TLS in {@code failure}, for a check's reason ("TLS: ..."), or null when
     * it is not about TLS.
     */
    static String describe(Throwable failure, TlsConfig tls) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            String m = String.valueOf(t.getMessage());
            if (m.contains("ssl not enabled in the server") || m.contains("SSL not enabled in the server")) {
                return "TLS: the node does not offer TLS (have_ssl is not YES) and health.tls.mode is "
                        + tls.mode().yamlName();
            }
            if (m.contains("hostname verification failed")) {
                return "TLS: the node's certificate does not name the address connected to (verify-full) ("
                        + firstLine(m) + ")";
            }
            if (t instanceof SSLException || t instanceof CertificateException) {
                String trust = tls.caFile().map(ca -> "ca-file " + ca).orElse("the JVM's trusted CAs");
                if (m.contains("PKIX") || m.contains("certification path") || m.contains("signature check failed")) {
                    return "TLS: the node's certificate is not signed by " + trust + " (" + firstLine(m) + ")";
                }
                return "TLS: " + firstLine(m);
            }
        }
        return null;
    }

    private static String firstLine(String s) {
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
