package org.intrustd.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;
import java.util.Base64;
import java.util.Optional;
import org.intrustd.core.access.SessionProof;
import org.intrustd.core.id.ApplianceId;

/**
 * What an enrolled device keeps for one appliance (docs/spec/devices.md): its P-256 device key
 * and the session secret it chose when it asked to be enrolled. Once the owner approves the
 * request, the device resumes that session on every link with a proof signed by the key, so it
 * never asks for a password. Kept in a file only its user can read.
 */
public record DeviceCredential(ApplianceId appliance, Optional<URI> flock, String label, KeyPair keys, String secret) {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
  private static final String PREFIX = "is1_";

  /** A new key and a new session secret (256 random bits, as the appliance would make one). */
  public static DeviceCredential create(ApplianceId appliance, Optional<URI> flock, String label) {
    byte[] raw = new byte[32];
    new SecureRandom().nextBytes(raw);
    return new DeviceCredential(appliance, flock, label, DeviceKeys.generate(), PREFIX + B64.encodeToString(raw));
  }

  /** The SHA-256 of the secret's 32 bytes: what the appliance stores, and what enrolment sends. */
  public byte[] sessionHash() {
    try {
      return MessageDigest.getInstance("SHA-256").digest(Base64.getUrlDecoder().decode(secret.substring(PREFIX.length())));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The session's id: the first 12 bytes of {@link #sessionHash}, base64url (what lists and logs show). */
  public String sessionId() {
    return B64.encodeToString(Arrays.copyOf(sessionHash(), 12));
  }

  /** The body of {@code POST /v1/enroll}. */
  public String enrolment() {
    return JSON.createObjectNode().put("deviceKey", DeviceKeys.encode(keys)).put("sessionHash", B64.encodeToString(sessionHash()))
        .put("label", label).toString();
  }

  /** The body of {@code POST /v1/resume} on the link whose client fingerprint is {@code fingerprint}. */
  public String resumption(String fingerprint) {
    try {
      Signature s = Signature.getInstance("SHA256withECDSAinP1363Format");
      s.initSign(keys.getPrivate());
      s.update(SessionProof.message(appliance.toString(), fingerprint, sessionId()).getBytes(StandardCharsets.UTF_8));
      return JSON.createObjectNode().put("session", secret).put("proof", B64.encodeToString(s.sign())).toString();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot sign with the device key", e);
    }
  }

  /** Where the credential for {@code appliance} lives under {@code dir}. */
  public static Path file(Path dir, ApplianceId appliance) {
    return dir.resolve(appliance + ".json");
  }

  /** Writes it under {@code dir} (made 0700), readable by this user only, all or nothing. */
  public void save(Path dir) throws IOException {
    Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
    ObjectNode out = JSON.createObjectNode().put("version", 1).put("appliance", appliance.toString()).put("label", label)
        .put("publicKey", B64.encodeToString(keys.getPublic().getEncoded()))
        .put("privateKey", B64.encodeToString(keys.getPrivate().getEncoded())).put("session", secret);
    flock.ifPresent(f -> out.put("flock", f.toString()));
    Path tmp = Files.createTempFile(dir, ".device-", ".tmp", PosixFilePermissions.asFileAttribute(
        PosixFilePermissions.fromString("rw-------")));
    try {
      Files.writeString(tmp, out.toPrettyString() + "\n");
      try {
        Files.move(tmp, file(dir, appliance), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, file(dir, appliance), StandardCopyOption.REPLACE_EXISTING);
      }
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /** The credential for {@code appliance} under {@code dir}, if there is one; a damaged file is an error that says so. */
  public static Optional<DeviceCredential> load(Path dir, ApplianceId appliance) {
    Path file = file(dir, appliance);
    if (!Files.isRegularFile(file)) {
      return Optional.empty();
    }
    try {
      JsonNode in = JSON.readTree(file.toFile());
      KeyFactory ec = KeyFactory.getInstance("EC");
      KeyPair keys = new KeyPair(
          ec.generatePublic(new X509EncodedKeySpec(Base64.getUrlDecoder().decode(in.path("publicKey").asText()))),
          ec.generatePrivate(new PKCS8EncodedKeySpec(Base64.getUrlDecoder().decode(in.path("privateKey").asText()))));
      String secret = in.path("session").asText();
      if (!secret.startsWith(PREFIX) || secret.length() != PREFIX.length() + 43
          || !appliance.toString().equals(in.path("appliance").asText())) {
        throw new IllegalArgumentException("the session or appliance is malformed");
      }
      Optional<URI> flock = in.hasNonNull("flock") ? Optional.of(URI.create(in.get("flock").asText())) : Optional.empty();
      return Optional.of(new DeviceCredential(appliance, flock, in.path("label").asText("device"), keys, secret));
    } catch (IOException | GeneralSecurityException | IllegalArgumentException e) {
      throw new ClientException("the device credential " + file + " is damaged (" + e.getMessage()
          + "): remove it and enrol again");
    }
  }

  /** Forgets the credential for {@code appliance}; whether there was one. */
  public static boolean forget(Path dir, ApplianceId appliance) throws IOException {
    return Files.deleteIfExists(file(dir, appliance));
  }

  /** The directory credentials live in: $XDG_CONFIG_HOME/intrustd/devices, else ~/.config/intrustd/devices. */
  public static Path defaultDir() {
    String xdg = System.getenv("XDG_CONFIG_HOME");
    Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".config");
    return base.resolve("intrustd").resolve("devices");
  }

  @Override
  public String toString() { // never the secret or the key
    return "DeviceCredential[" + appliance + ", " + label + ", session " + sessionId() + "]";
  }
}
