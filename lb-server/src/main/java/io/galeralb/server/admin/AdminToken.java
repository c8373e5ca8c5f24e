package io.galeralb.server.admin;

import io.galeralb.config.Secret;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Objects;
import java.util.Optional;

/**
 * The bearer token the admin API's changing calls must present: the configuration's
 * ({@code admin.token-file} or {@code admin.token-env}, replaced by each reload), or, without
 * one, 32 random bytes made at start and written to the lock file (readable by this user only).
 */
public final class AdminToken {

    private final String made = newToken();
    private volatile Optional<Secret> configured;

    public AdminToken(Optional<Secret> configured) {
        this.configured = Objects.requireNonNull(configured, "configured");
    }

    /** The configuration's token after a reload; empty: the one made at start. */
    public void configured(Optional<Secret> token) {
        this.configured = Objects.requireNonNull(token, "token");
    }

    /** The token made at start, while the configuration names none (for the lock file). */
    public Optional<String> generated() {
        return configured.isEmpty() ? Optional.of(made) : Optional.empty();
    }

    /** Whether an Authorization header carries the token; constant time. */
    public boolean authorizes(String authorization) {
        String token = configured.map(Secret::value).orElse(made);
        byte[] expected = ("Bearer " + token).getBytes(StandardCharsets.UTF_8);
        byte[] given = String.valueOf(authorization).getBytes(StandardCharsets.UTF_8);
        return MessageDigest.isEqual(expected, given);
    }

    private static String newToken() {
        byte[] b = new byte[32];
        new SecureRandom().nextBytes(b);
        return HexFormat.of().formatHex(b);
    }
}
