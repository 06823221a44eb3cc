package org.intrustd.flock;

import java.nio.file.Path;
import java.util.Objects;

/**
 * A certificate and its private key in PEM files, for serving {@code wss://} (and the static
 * files over {@code https://}) on the public listener. The certificate file holds the server's
 * certificate first, then any intermediates (as certbot's {@code fullchain.pem}); the key file
 * an unencrypted PKCS#8 ({@code BEGIN PRIVATE KEY}), PKCS#1 ({@code BEGIN RSA PRIVATE KEY}) or
 * SEC1 ({@code BEGIN EC PRIVATE KEY}) key. Both are read when the flock starts.
 */
public record Tls(Path certificateChain, Path privateKey) {
  public Tls {
    Objects.requireNonNull(certificateChain, "certificateChain");
    Objects.requireNonNull(privateKey, "privateKey");
  }
}
