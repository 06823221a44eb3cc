package org.intrustd.appliance.bundles;

import java.nio.file.Path;
import org.intrustd.core.crypto.Ed25519;
import org.intrustd.core.id.ApplianceId;

/**
 * A publisher's signing key. Its ID has the form of an appliance ID (identity.md): the hash of
 * the public key, so a person can compare it by eye and code can check a key against it.
 * Thread-safe.
 */
public final class PublisherKey {
  private final Ed25519.KeyMaterial keys;

  private PublisherKey(Ed25519.KeyMaterial keys) {
    this.keys = keys;
  }

  public static PublisherKey generate() {
    return new PublisherKey(Ed25519.generate());
  }

  public static PublisherKey fromSeed(byte[] seed) {
    return new PublisherKey(Ed25519.fromSeed(seed));
  }

  /** Loads a secret key file (the identity.key format); the message of a failure names the file. */
  public static PublisherKey load(Path file) {
    return fromSeed(KeyFiles.read(file, KeyFiles.SEED_HEADER));
  }

  /** Writes the secret key with mode 0600; refuses to replace an existing file. */
  public void save(Path file) {
    KeyFiles.writeNew(file, KeyFiles.line(KeyFiles.SEED_HEADER, keys.seed()), "rw-------");
  }

  /** Writes the public key file that appliances trust (see {@link TrustedPublishers}). */
  public void savePublic(Path file) {
    KeyFiles.writeNew(file, "# Intrustd publisher " + id() + "\n" + KeyFiles.line(KeyFiles.PUBLIC_HEADER, publicKey()),
        "rw-r--r--");
  }

  public byte[] publicKey() {
    return keys.publicKey().clone();
  }

  public ApplianceId id() {
    return ApplianceId.fromPublicKey(keys.publicKey());
  }

  byte[] sign(byte[] signingInput) {
    return Ed25519.sign(keys.keyPair().getPrivate(), signingInput);
  }
}
