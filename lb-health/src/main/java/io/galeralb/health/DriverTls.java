package io.galeralb.health;

import io.galeralb.config.TlsConfig;
import java.util.Properties;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import javax.net.ssl.SSLException;

/** health.tls as MariaDB Connector/J's options, for every connection galera-lb makes to a node itself. */
public final class DriverTls {

    private DriverTls() {
    }

    /** A client certificate as the driver takes it: a PKCS#12 file, and the password that opens it. */
    private record KeyStoreFile(String path, String password) {
    }

    /** One file per client certificate loaded; deleted when the process exits. */
    private static final Map<TlsConfig.ClientCertificate, KeyStoreFile> KEY_STORES = new ConcurrentHashMap<>();

    /**
     * Sets {@code sslMode}; with a CA file, {@code serverSslCert} to its PEM text as loaded; with
     * a client certificate, {@code keyStore}: Connector/J reads client keys only from a key store
     * file, so one is written, readable by this user alone and locked with a random password
     * that only this process holds.
     */
    public static void apply(Properties properties, TlsConfig tls) {
        properties.setProperty("sslMode", tls.mode().driverMode());
        tls.caFile().ifPresent(ca -> properties.setProperty("serverSslCert", ca.pem()));
        tls.clientCertificate().ifPresent(c -> {
            KeyStoreFile ks = KEY_STORES.computeIfAbsent(c, DriverTls::write);
            properties.setProperty("keyStore", ks.path());
            properties.setProperty("keyStorePassword", ks.password());
            properties.setProperty("keyStoreType", "PKCS12");
        });
    }

    private static KeyStoreFile write(TlsConfig.ClientCertificate c) {
        byte[] random = new byte[24];
        new SecureRandom().nextBytes(random);
        String password = Base64.getEncoder().encodeToString(random);
        try {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            ks.setKeyEntry("galera-lb", c.key(), password.toCharArray(), c.chain().toArray(new Certificate[0]));
            Path file = Files.createTempFile("galera-lb-client", ".p12",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            file.toFile().deleteOnExit();
            try (OutputStream out = Files.newOutputStream(file)) {
                ks.store(out, password.toCharArray());
            }
            return new KeyStoreFile(file.toString(), password);
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalStateException("cannot write the client certificate of " + c + " as a key store: " + e, e);
        }
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
