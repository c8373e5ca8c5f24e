package io.galeralb.config;

import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * {@code health.tls}: how the checks, the writer lease and {@code doctor} connect to the
 * servers (the sessions of clients are never decrypted: their TLS passes through).
 *
 * @param mode   disabled, required (encrypted, any certificate), verify-ca (signed by the CA),
 *               verify-full (signed by the CA and naming the address connected to)
 * @param caFile where the CA came from, with its PEM text as read when the configuration was loaded
 * @param clientCertificate the certificate and key galera-lb presents (for users that {@code REQUIRE X509})
 */
public record TlsConfig(Mode mode, Optional<CaFile> caFile, Optional<ClientCertificate> clientCertificate) {

    public static final TlsConfig DISABLED = new TlsConfig(Mode.DISABLED, Optional.empty(), Optional.empty());

    /**
     * A client certificate chain and its private key, parsed when the configuration was loaded.
     *
     * @param certFile where the chain came from (PEM)
     * @param chain    the certificate first, then its issuers
     * @param key      the private key (PKCS#8 PEM: {@code BEGIN PRIVATE KEY})
     */
    public record ClientCertificate(String certFile, List<X509Certificate> chain, PrivateKey key) {
        public ClientCertificate {
            Objects.requireNonNull(certFile, "certFile");
            chain = List.copyOf(chain);
            Objects.requireNonNull(key, "key");
            if (chain.isEmpty()) {
                throw new IllegalArgumentException("no certificate in " + certFile);
            }
        }

        @Override
        public String toString() {
            return certFile;
        }
    }

    /** A CA certificate file and its content (PEM), read at load and at each reload. */
    public record CaFile(String path, String pem) {
        public CaFile {
            Objects.requireNonNull(path, "path");
            Objects.requireNonNull(pem, "pem");
        }

        @Override
        public String toString() {
            return path;
        }
    }

    public enum Mode {
        DISABLED("disabled", "disable"),
        REQUIRED("required", "trust"),
        VERIFY_CA("verify-ca", "verify-ca"),
        VERIFY_FULL("verify-full", "verify-full");

        private final String yamlName;
        private final String driverMode;

        Mode(String yamlName, String driverMode) {
            this.yamlName = yamlName;
            this.driverMode = driverMode;
        }

        public String yamlName() {
            return yamlName;
        }

        /** MariaDB Connector/J's {@code sslMode} for it. */
        public String driverMode() {
            return driverMode;
        }
    }

    public TlsConfig {
        Objects.requireNonNull(mode, "mode");
        Objects.requireNonNull(caFile, "caFile");
        Objects.requireNonNull(clientCertificate, "clientCertificate");
    }
}
