package io.galeralb.config;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads {@code health.tls}: the mode, the CA file, and a client certificate with its key, checked now. */
final class TlsReader {

    static final Set<String> KEYS = Set.of("mode", "ca-file", "cert-file", "key-file");
    private static final Map<String, TlsConfig.Mode> MODES =
            ConfigLoader.words(TlsConfig.Mode.values(), TlsConfig.Mode::yamlName);
    /** A CA file holds a few certificates: more than this is not one. */
    private static final int MAX_CA_BYTES = 1 << 20;

    private TlsReader() {
    }

    /** health.tls: a mode and, for the verify modes, usually the CA file (else the JVM's trusted CAs). */
    static TlsConfig read(YamlMapping t, YamlMapping.Problems problems) {
        t.rejectUnknownKeys(KEYS);
        TlsConfig.Mode mode = t.word("mode", MODES, TlsConfig.Mode.VERIFY_FULL);
        Optional<TlsConfig.CaFile> ca = t.convert("ca-file", Path::of).flatMap(f -> {
            try {
                String pem = new String(TrustedFiles.read(f, MAX_CA_BYTES, false, "CA file"), StandardCharsets.US_ASCII);
                if (!pem.contains("-----BEGIN CERTIFICATE-----")) {
                    problems.add(t.value("ca-file").orElseThrow(), t.child("ca-file"),
                            "CA file " + f + " holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
                    return Optional.empty();
                }
                return Optional.of(new TlsConfig.CaFile(f.toString(), pem));
            } catch (IOException e) {
                problems.add(t.value("ca-file").orElseThrow(), t.child("ca-file"), e.getMessage());
                return Optional.empty();
            }
        });
        if (ca.isPresent() && (mode == TlsConfig.Mode.DISABLED || mode == TlsConfig.Mode.REQUIRED)) {
            problems.add(t.value("ca-file").orElseThrow(), t.child("ca-file"), "ca-file is used by mode verify-ca "
                    + "or verify-full only; this mode is " + mode.yamlName());
        }
        Optional<TlsConfig.ClientCertificate> client = Optional.empty();
        if (t.value("cert-file").isPresent() != t.value("key-file").isPresent()) {
            String given = t.value("cert-file").isPresent() ? "cert-file" : "key-file";
            problems.add(t.value(given).orElseThrow(), t.child(given), "give cert-file and key-file together");
        } else if (t.value("cert-file").isPresent()) {
            client = t.convert("cert-file", Path::of).flatMap(cert -> t.convert("key-file", Path::of)
                    .flatMap(key -> readClientCertificate(t, cert, key, problems)));
        }
        return new TlsConfig(mode, ca, client);
    }

    /** health.tls cert-file (PEM chain) and key-file (PKCS#8 PEM, a secret: owner-only), parsed now. */
    private static Optional<TlsConfig.ClientCertificate> readClientCertificate(YamlMapping t, Path certFile,
                                                                             Path keyFile, YamlMapping.Problems problems) {
        List<X509Certificate> chain = new ArrayList<>();
        try {
            byte[] pem = TrustedFiles.read(certFile, MAX_CA_BYTES, false, "certificate file");
            for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(new ByteArrayInputStream(pem))) {
                chain.add((X509Certificate) c);
            }
            if (chain.isEmpty()) {
                throw new CertificateException("no certificate in it");
            }
        } catch (IOException | CertificateException e) {
            problems.add(t.value("cert-file").orElseThrow(), t.child("cert-file"),
                    e instanceof CertificateException ? "certificate file " + certFile + ": " + e.getMessage() : e.getMessage());
            return Optional.empty();
        }
        try {
            String pem = new String(TrustedFiles.read(keyFile, TrustedFiles.MAX_SECRET_BYTES * 4, true, "key file"),
                    StandardCharsets.US_ASCII);
            Matcher m = PKCS8_KEY.matcher(pem);
            if (!m.find()) {
                problems.add(t.value("key-file").orElseThrow(), t.child("key-file"), "key file " + keyFile + " holds no "
                        + "PKCS#8 key (-----BEGIN PRIVATE KEY-----); convert one with: openssl pkcs8 -topk8 -nocrypt "
                        + "-in KEY -out " + keyFile);
                return Optional.empty();
            }
            PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(Base64.getMimeDecoder().decode(m.group(1)));
            String algorithm = chain.get(0).getPublicKey().getAlgorithm();
            return Optional.of(new TlsConfig.ClientCertificate(certFile.toString(), chain,
                    KeyFactory.getInstance(algorithm).generatePrivate(spec)));
        } catch (IOException e) {
            problems.add(t.value("key-file").orElseThrow(), t.child("key-file"), e.getMessage());
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            problems.add(t.value("key-file").orElseThrow(), t.child("key-file"), "key file " + keyFile
                    + " is not a key for the certificate of " + certFile + ": " + e.getMessage());
        }
        return Optional.empty();
    }

    private static final Pattern PKCS8_KEY =
            Pattern.compile("-----BEGIN PRIVATE KEY-----([A-Za-z0-9+/=\\s]+)-----END PRIVATE KEY-----");
}
