package org.intrustd.core.identity;

import java.security.PrivateKey;
import org.intrustd.core.crypto.Ed25519;
import org.intrustd.core.crypto.SigningInput;
import org.intrustd.core.id.ApplianceId;

/** An appliance's identity: its key pair and the ID it hashes to. Thread-safe. */
public final class Identity {
  private final Ed25519.KeyMaterial keys;
  private final ApplianceId id;

  public Identity(Ed25519.KeyMaterial keys) {
    this.keys = keys;
    this.id = ApplianceId.fromPublicKey(keys.publicKey());
  }

  public ApplianceId id() {
    return id;
  }

  public byte[] publicKey() {
    return keys.publicKey().clone();
  }

  byte[] seed() {
    return keys.seed().clone();
  }

  /** Signs the flock's registration challenge. */
  public byte[] signRegistration(byte[] nonce) {
    return sign(SigningInput.register(nonce));
  }

  /** Signs an answer together with the offer it answers, binding both DTLS fingerprints. */
  public byte[] signAnswer(String offerSdp, String answerSdp) {
    return sign(SigningInput.answer(offerSdp, answerSdp));
  }

  /** Proves this appliance to appliance {@code target} on the link whose client fingerprint is {@code fingerprint}. */
  public byte[] signPeer(String target, String fingerprint) {
    return sign(SigningInput.peer(target, fingerprint));
  }

  private byte[] sign(byte[] input) {
    PrivateKey key = keys.keyPair().getPrivate();
    return Ed25519.sign(key, input);
  }
}
