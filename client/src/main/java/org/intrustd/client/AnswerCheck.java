package org.intrustd.client;

import java.util.Optional;
import org.intrustd.core.crypto.Ed25519;
import org.intrustd.core.crypto.SigningInput;
import org.intrustd.core.id.ApplianceId;
import org.intrustd.core.signal.SignalMessage.ClientAnswer;

/**
 * What a client checks before it applies an answer (docs/spec/flock.md, "the signed answer"):
 * the public key hashes to the appliance ID it asked for, the answer names that ID, and the
 * signature covers its own offer and this answer. A flock that swaps the answer or the DTLS
 * fingerprint in it fails here.
 */
public final class AnswerCheck {
  private AnswerCheck() { }

  /** Empty when the answer is acceptable, otherwise why not. */
  public static Optional<String> problem(ApplianceId expected, String offerSdp, ClientAnswer answer) {
    if (!expected.matches(answer.publicKey())) {
      return Optional.of("the public key does not hash to " + expected);
    }
    if (!expected.toString().equals(answer.appliance())) {
      return Optional.of("the answer names appliance " + answer.appliance() + ", not " + expected);
    }
    if (!Ed25519.verify(answer.publicKey(), SigningInput.answer(offerSdp, answer.sdp()), answer.signature())) {
      return Optional.of("the signature does not cover our offer and this answer");
    }
    return Optional.empty();
  }
}
