package org.intrustd.cli;

import java.io.IOException;
import java.util.Map;
import org.intrustd.backup.HttpBackend;
import org.intrustd.client.ChannelHttp;
import org.intrustd.client.ChannelStream;
import org.intrustd.client.ClientException;

/**
 * HTTP exchanges with one app of an appliance over the end-to-end link, each on a channel of
 * its own (the daemon forwards it to the app, with the caller's identity). It owns the
 * signed-in link: closing it signs out. Thread-safe: the link carries several channels at once.
 */
final class LinkHttp implements HttpBackend.Transport {
  /** The largest response body read (a pack of the largest size a repository may choose). */
  static final long MAX_BODY = 160L << 20;

  private final Remote remote;
  private final String app;

  LinkHttp(Remote remote, String app) {
    this.remote = remote;
    this.app = app;
  }

  @Override
  public HttpBackend.Response exchange(String method, String target, Map<String, String> headers, byte[] body)
      throws IOException {
    try (ChannelStream stream = remote.client().open("http/" + app)) {
      ChannelHttp.Response r = ChannelHttp.exchange(stream, app, method, target, headers, body, MAX_BODY);
      return new HttpBackend.Response(r.status(), r.headers(), r.body());
    } catch (ClientException e) {
      throw new IOException(e.getMessage(), e);
    }
  }

  @Override
  public void close() {
    remote.close();
  }
}
