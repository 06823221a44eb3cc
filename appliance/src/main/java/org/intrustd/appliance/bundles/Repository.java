package org.intrustd.appliance.bundles;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import org.intrustd.appliance.bundles.BundleException.Reason;

/**
 * A repository of bundles: a directory or an HTTP(S) base URL holding a signed
 * {@code index.json} and the bundle files it lists. Opening fetches and checks the index;
 * {@link #fetch} downloads a bundle, checks its size and SHA-256 against the index, and then
 * its own signature. Everything read is bounded (index at 8 MiB, bundles at the size the index
 * gives and the limits). Thread-safe; close it to release the HTTP client.
 */
public final class Repository implements AutoCloseable {
  private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);
  /** Time to the response headers; bodies may take longer, bounded by their size. */
  private static final Duration RESPONSE_TIMEOUT = Duration.ofSeconds(30);

  private final Source source;
  private final TrustedPublishers trusted;
  private final BundleLimits limits;
  private final List<RepositoryEntry> bundles;

  private Repository(Source source, TrustedPublishers trusted, BundleLimits limits, List<RepositoryEntry> bundles) {
    this.source = source;
    this.trusted = trusted;
    this.limits = limits;
    this.bundles = bundles;
  }

  public static Repository open(Path dir, TrustedPublishers trusted) {
    return open(dir.toAbsolutePath().toUri(), trusted, BundleLimits.DEFAULT);
  }

  public static Repository open(URI location, TrustedPublishers trusted) {
    return open(location, trusted, BundleLimits.DEFAULT);
  }

  /**
   * Opens a repository at a {@code file:} URI, an {@code http:} or {@code https:} URL (the
   * base: files are resolved against it as a directory) or a scheme-less path, and checks its
   * index against the trusted publishers.
   */
  public static Repository open(URI location, TrustedPublishers trusted, BundleLimits limits) {
    Source source = source(location);
    try {
      byte[] index;
      try (InputStream in = BoundedInput.atMost(source.open(RepositoryIndex.FILE), RepositoryIndex.MAX_BYTES,
          () -> new BundleException(Reason.OVERSIZE, "oversize: " + source.describe(RepositoryIndex.FILE)
              + " is larger than " + RepositoryIndex.MAX_BYTES + " bytes"))) {
        index = in.readAllBytes();
      }
      return new Repository(source, trusted, limits, RepositoryIndex.decode(index, trusted));
    } catch (IOException | RuntimeException e) {
      source.close();
      throw failure(e, "cannot read " + source.describe(RepositoryIndex.FILE));
    }
  }

  private static Source source(URI location) {
    String scheme = location.getScheme() == null ? "" : location.getScheme().toLowerCase(java.util.Locale.ROOT);
    try {
      return switch (scheme) {
        case "" -> new Source.Local(Path.of(location.getPath()));
        case "file" -> new Source.Local(Path.of(location));
        case "http", "https" -> new Source.Http(location.getRawPath().endsWith("/") ? location : URI.create(location + "/"),
            HttpClient.newBuilder().connectTimeout(CONNECT_TIMEOUT).followRedirects(HttpClient.Redirect.NORMAL).build());
        default -> throw new IllegalArgumentException("unknown scheme");
      };
    } catch (IllegalArgumentException | NullPointerException e) {
      throw new BundleException(Reason.INVALID_INPUT, "a repository is a directory or an http(s) URL, not " + location, e);
    }
  }

  /** Every bundle the index lists, in index order. */
  public List<RepositoryEntry> bundles() {
    return bundles;
  }

  /** The entry with the highest {@link Version} of an app, pre-releases included. */
  public Optional<RepositoryEntry> latest(String appId) {
    return bundles.stream().filter(e -> e.appId().equals(appId)).max(Comparator.comparing(RepositoryEntry::parsedVersion));
  }

  /**
   * Downloads a listed bundle into {@code dir} (as {@code dir/<file>}, replacing any file of that
   * name), checks it against the index and the trusted publishers, and returns it verified. On
   * any failure nothing is left in {@code dir}.
   */
  public Bundle fetch(RepositoryEntry entry, Path dir) {
    if (entry.size() > limits.maxBundleBytes()) {
      throw new BundleException(Reason.OVERSIZE, "oversize: " + entry.file() + " has " + entry.size()
          + " bytes, more than the limit of " + limits.maxBundleBytes());
    }
    Path target = dir.resolve(entry.file());
    Path tmp = null;
    boolean moved = false;
    try {
      tmp = Files.createTempFile(dir, "." + entry.file(), ".part");
      download(entry, tmp);
      Io.move(tmp, target);
      moved = true;
      Bundle bundle = Bundle.verify(target, trusted, limits);
      BundleHeader h = bundle.header();
      if (!h.appId().equals(entry.appId()) || !h.version().equals(entry.version())
          || !Arrays.equals(h.publisherKey(), entry.publisherKey())) {
        throw new BundleException(Reason.TAMPERED, entry.file() + " holds " + h.appId() + " " + h.version() + " by "
            + h.publisher() + ", but the index lists " + entry.appId() + " " + entry.version() + " by " + entry.publisher());
      }
      return bundle;
    } catch (IOException | RuntimeException e) {
      Io.deleteQuietly(tmp);
      if (moved) {
        Io.deleteQuietly(target);
      }
      throw failure(e, "cannot fetch " + source.describe(entry.file()));
    }
  }

  private void download(RepositoryEntry entry, Path tmp) throws IOException {
    String name = source.describe(entry.file());
    try (InputStream raw = source.open(entry.file());
        DigestInputStream in = new DigestInputStream(BoundedInput.atMost(raw, entry.size(),
            () -> new BundleException(Reason.TAMPERED, "tampered: " + name + " is larger than the index says ("
                + entry.size() + " bytes)")), Io.sha256());
        OutputStream out = Files.newOutputStream(tmp)) {
      long n = in.transferTo(out);
      if (n < entry.size()) {
        throw new BundleException(Reason.TRUNCATED, "truncated: " + name + " has " + n + " bytes, the index says " + entry.size());
      }
      if (!MessageDigest.isEqual(in.getMessageDigest().digest(), entry.sha256())) {
        throw new BundleException(Reason.TAMPERED, "tampered: " + name + " does not match the SHA-256 in the signed index");
      }
    }
  }

  @Override
  public void close() {
    source.close();
  }

  private static BundleException failure(Exception e, String context) {
    if (e instanceof BundleException b) {
      return b;
    }
    if (e instanceof IOException io) {
      return new BundleException(Reason.IO, context + ": " + Io.why(io), e);
    }
    return new BundleException(Reason.INVALID_INPUT, context + ": " + e, e);
  }

  /** Where the files come from. Names are checked plain file names ({@link RepositoryEntry#FILE_NAME}). */
  private sealed interface Source {
    InputStream open(String name) throws IOException;

    String describe(String name);

    default void close() {}

    record Local(Path dir) implements Source {
      @Override
      public InputStream open(String name) throws IOException {
        return Files.newInputStream(dir.resolve(name));
      }

      @Override
      public String describe(String name) {
        return dir.resolve(name).toString();
      }
    }

    record Http(URI base, HttpClient client) implements Source {
      @Override
      public InputStream open(String name) throws IOException {
        URI uri = base.resolve(name);
        HttpRequest request = HttpRequest.newBuilder(uri).timeout(RESPONSE_TIMEOUT).GET().build();
        HttpResponse<InputStream> response;
        try {
          response = client.send(request, HttpResponse.BodyHandlers.ofInputStream());
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new BundleException(Reason.IO, "interrupted while fetching " + uri, e);
        }
        if (response.statusCode() != 200) {
          response.body().close();
          throw new BundleException(Reason.IO, "GET " + uri + ": HTTP " + response.statusCode());
        }
        return response.body();
      }

      @Override
      public String describe(String name) {
        return base.resolve(name).toString();
      }

      @Override
      public void close() {
        client.close();
      }
    }
  }
}
