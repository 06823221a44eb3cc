package org.intrustd.flock;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.Signature;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.bouncycastle.asn1.ASN1EncodableVector;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.DERBitString;
import org.bouncycastle.asn1.DERNull;
import org.bouncycastle.asn1.DERSequence;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.ExtensionsGenerator;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x509.TBSCertificate;
import org.bouncycastle.asn1.x509.Time;
import org.bouncycastle.asn1.x509.V3TBSCertificateGenerator;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;

/**
 * A self-signed certificate for {@code localhost} and {@code 127.0.0.1}, made in the test with
 * BouncyCastle's ASN.1 classes, written as the PEM files a flock is given, and an SSL context
 * that trusts it (and nothing else) for the test's client.
 */
record SelfSigned(Path certificate, Path key, X509Certificate x509, KeyPair keys) {
  enum Kind { EC, RSA }

  /** An EC P-256 certificate and its key as PKCS#8 ({@code BEGIN PRIVATE KEY}). */
  static SelfSigned make(Path dir) throws Exception {
    return make(dir, Kind.EC, false);
  }

  /** {@code traditional}: the key as PKCS#1 or SEC1 ({@code BEGIN RSA/EC PRIVATE KEY}). */
  static SelfSigned make(Path dir, Kind kind, boolean traditional) throws Exception {
    KeyPairGenerator generator = KeyPairGenerator.getInstance(kind == Kind.EC ? "EC" : "RSA");
    if (kind == Kind.EC) {
      generator.initialize(new ECGenParameterSpec("secp256r1"));
    } else {
      generator.initialize(2048);
    }
    KeyPair keys = generator.generateKeyPair();
    AlgorithmIdentifier algorithm = kind == Kind.EC
        ? new AlgorithmIdentifier(X9ObjectIdentifiers.ecdsa_with_SHA256)
        : new AlgorithmIdentifier(PKCSObjectIdentifiers.sha256WithRSAEncryption, DERNull.INSTANCE);
    X500Name name = new X500Name("CN=localhost");
    Instant now = Instant.now();
    V3TBSCertificateGenerator tbs = new V3TBSCertificateGenerator();
    tbs.setSerialNumber(new ASN1Integer(BigInteger.valueOf(now.toEpochMilli())));
    tbs.setSignature(algorithm);
    tbs.setIssuer(name);
    tbs.setSubject(name);
    tbs.setStartDate(new Time(Date.from(now.minus(Duration.ofHours(1)))));
    tbs.setEndDate(new Time(Date.from(now.plus(Duration.ofDays(1)))));
    tbs.setSubjectPublicKeyInfo(SubjectPublicKeyInfo.getInstance(keys.getPublic().getEncoded()));
    ExtensionsGenerator extensions = new ExtensionsGenerator();
    extensions.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[] {
        new GeneralName(GeneralName.dNSName, "localhost"), new GeneralName(GeneralName.iPAddress, "127.0.0.1")}));
    tbs.setExtensions(extensions.generate());
    TBSCertificate toSign = tbs.generateTBSCertificate();
    Signature signer = Signature.getInstance(kind == Kind.EC ? "SHA256withECDSA" : "SHA256withRSA");
    signer.initSign(keys.getPrivate());
    signer.update(toSign.getEncoded("DER"));
    ASN1EncodableVector certificate = new ASN1EncodableVector();
    certificate.add(toSign);
    certificate.add(algorithm);
    certificate.add(new DERBitString(signer.sign()));
    byte[] der = new DERSequence(certificate).getEncoded("DER");
    X509Certificate x509 = (X509Certificate) CertificateFactory.getInstance("X.509")
        .generateCertificate(new java.io.ByteArrayInputStream(der));

    Path certFile = dir.resolve("cert.pem");
    Path keyFile = dir.resolve("key.pem");
    Files.writeString(certFile, pem("CERTIFICATE", der));
    byte[] pkcs8 = keys.getPrivate().getEncoded();
    if (traditional) {
      PrivateKeyInfo info = PrivateKeyInfo.getInstance(pkcs8);
      // SEC1 as openssl writes it: with the curve, which PKCS#8 keeps outside the inner key.
      byte[] inner = kind == Kind.EC
          ? new org.bouncycastle.asn1.sec.ECPrivateKey(256,
              ((java.security.interfaces.ECPrivateKey) keys.getPrivate()).getS(),
              info.getPrivateKeyAlgorithm().getParameters()).getEncoded("DER")
          : info.parsePrivateKey().toASN1Primitive().getEncoded("DER");
      Files.writeString(keyFile, pem(kind == Kind.EC ? "EC PRIVATE KEY" : "RSA PRIVATE KEY", inner));
    } else {
      Files.writeString(keyFile, pem("PRIVATE KEY", pkcs8));
    }
    return new SelfSigned(certFile, keyFile, x509, keys);
  }

  Tls tls() {
    return new Tls(certificate, key);
  }

  /** Trusts this certificate only. */
  SSLContext trustingIt() throws GeneralSecurityException, IOException {
    KeyStore trusted = KeyStore.getInstance("PKCS12");
    trusted.load(null, null);
    trusted.setCertificateEntry("flock", x509);
    TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    trust.init(trusted);
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(null, trust.getTrustManagers(), null);
    return context;
  }

  static String pem(String type, byte[] der) {
    return "-----BEGIN " + type + "-----\n"
        + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
        + "\n-----END " + type + "-----\n";
  }
}
