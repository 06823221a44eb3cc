package org.intrustd.flock;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.bouncycastle.asn1.DERNull;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.pkcs.RSAPrivateKey;
import org.bouncycastle.asn1.sec.ECPrivateKey;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;

/**
 * A {@link Tls} certificate chain and key as an in-memory key store for Jetty: nothing is
 * written to disk and no keytool step is needed. Refusals are {@link IllegalArgumentException}s
 * whose message names the file and says what is wrong, for the command line to show as is.
 */
final class PemKeyStore {
  /** The in-memory store's password: it never leaves this process. */
  static final String PASSWORD = "flock";
  private static final Pattern BLOCK =
      Pattern.compile("-----BEGIN ([A-Z0-9 ]+)-----([A-Za-z0-9+/=\\s]*?)-----END \\1-----");

  private PemKeyStore() {}

  static KeyStore load(Tls tls) {
    List<X509Certificate> chain = certificates(tls.certificateChain());
    PrivateKey key = privateKey(tls.privateKey());
    if (!matches(key, chain.get(0))) {
      throw new IllegalArgumentException(tls.privateKey() + " is not the key of the first certificate in "
          + tls.certificateChain());
    }
    try {
      KeyStore store = KeyStore.getInstance("PKCS12");
      store.load(null, null);
      store.setKeyEntry("flock", key, PASSWORD.toCharArray(), chain.toArray(Certificate[]::new));
      return store;
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalArgumentException("cannot hold " + tls.certificateChain() + " in a key store: " + e.getMessage(), e);
    }
  }

  static List<X509Certificate> certificates(Path file) {
    List<X509Certificate> out = new ArrayList<>();
    try {
      CertificateFactory x509 = CertificateFactory.getInstance("X.509");
      for (Pem block : blocks(file)) {
        if (block.type().equals("CERTIFICATE")) {
          out.add((X509Certificate) x509.generateCertificate(new ByteArrayInputStream(block.der())));
        }
      }
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException(file + ": not a valid certificate: " + e.getMessage(), e);
    }
    if (out.isEmpty()) {
      throw new IllegalArgumentException(file + " holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
    }
    return out;
  }

  static PrivateKey privateKey(Path file) {
    for (Pem block : blocks(file)) {
      byte[] pkcs8 = switch (block.type()) {
        case "PRIVATE KEY" -> block.der();
        case "RSA PRIVATE KEY" -> der(file, () -> new PrivateKeyInfo(
            new AlgorithmIdentifier(PKCSObjectIdentifiers.rsaEncryption, DERNull.INSTANCE),
            RSAPrivateKey.getInstance(block.der())));
        case "EC PRIVATE KEY" -> der(file, () -> {
          ECPrivateKey sec1 = ECPrivateKey.getInstance(block.der());
          if (sec1.getParametersObject() == null) {
            throw new IllegalArgumentException("an EC key that does not name its curve");
          }
          return new PrivateKeyInfo(new AlgorithmIdentifier(X9ObjectIdentifiers.id_ecPublicKey, sec1.getParametersObject()),
              sec1);
        });
        case "ENCRYPTED PRIVATE KEY" -> throw new IllegalArgumentException(file
            + " holds an encrypted key: the flock needs it unencrypted (openssl pkey -in KEY -out PLAIN), readable by it alone");
        default -> null;
      };
      if (pkcs8 != null) {
        return decode(file, pkcs8);
      }
    }
    throw new IllegalArgumentException(file + " holds no PEM private key (-----BEGIN PRIVATE KEY-----)");
  }

  private static PrivateKey decode(Path file, byte[] pkcs8) {
    for (String algorithm : List.of("RSA", "EC", "Ed25519", "Ed448", "RSASSA-PSS")) {
      try {
        return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(pkcs8));
      } catch (GeneralSecurityException e) {
        // not this algorithm: try the next
      }
    }
    throw new IllegalArgumentException(file + ": not an RSA, EC or EdDSA private key");
  }

  /** Whether the key signs what the certificate's public key verifies. */
  private static boolean matches(PrivateKey key, X509Certificate certificate) {
    String algorithm = switch (key.getAlgorithm()) {
      case "RSA" -> "SHA256withRSA";
      case "EC" -> "SHA256withECDSA";
      default -> key.getAlgorithm(); // Ed25519, Ed448
    };
    try {
      byte[] probe = "intrustd flock".getBytes(StandardCharsets.US_ASCII);
      Signature signer = Signature.getInstance(algorithm);
      signer.initSign(key);
      signer.update(probe);
      byte[] signature = signer.sign();
      Signature verifier = Signature.getInstance(algorithm);
      verifier.initVerify(certificate.getPublicKey());
      verifier.update(probe);
      return verifier.verify(signature);
    } catch (GeneralSecurityException e) {
      return false;
    }
  }

  private record Pem(String type, byte[] der) {}

  private static List<Pem> blocks(Path file) {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.ISO_8859_1);
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read " + file + ": " + e.getMessage(), e);
    }
    List<Pem> out = new ArrayList<>();
    Matcher m = BLOCK.matcher(text);
    while (m.find()) {
      try {
        out.add(new Pem(m.group(1), Base64.getMimeDecoder().decode(m.group(2))));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(file + ": a PEM block that is not base64", e);
      }
    }
    return out;
  }

  private interface Encodable {
    org.bouncycastle.asn1.ASN1Encodable get() throws IOException;
  }

  private static byte[] der(Path file, Encodable structure) {
    try {
      return structure.get().toASN1Primitive().getEncoded("DER");
    } catch (IOException | RuntimeException e) {
      throw new IllegalArgumentException(file + ": not a valid key: " + e.getMessage(), e);
    }
  }
}
