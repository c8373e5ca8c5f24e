package io.galeralb.config;

import java.util.Objects;
import java.util.Optional;

/**
 * {@code health.tls}: how the checks, the writer lease and {@code doctor} connect to the
 * servers (the sessions of clients are never decrypted: their TLS passes through).
 *
 * @param mode   disabled, required (encrypted, any certificate), verify-ca (signed by the CA),
 *               verify-full (signed by the CA and naming the address connected to)
 * @param caFile where the CA came from, with its PEM text as read when the configuration was loaded
 */
public record TlsConfig(Mode mode, Optional<CaFile> caFile) {

    public static final TlsConfig DISABLED = new TlsConfig(Mode.DISABLED, Optional.empty());

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
    }
}
