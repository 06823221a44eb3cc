package org.intrustd.flock;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpMethod;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/**
 * {@code GET /healthz}, {@code GET /readyz} and, on the operations listener only,
 * {@code GET /metrics}; any other request goes to the next handler (on the operations listener:
 * none, so 404). Health says the process serves HTTP; readiness says it accepts registrations
 * ({@link Readiness}), and 503 with an RFC 9457 problem body says why not.
 */
final class OpsHandler extends Handler.Wrapper {
  private final Readiness readiness;
  private final FlockMetrics metrics; // null: no /metrics here

  OpsHandler(Readiness readiness, FlockMetrics metrics, Handler next) {
    super(next);
    this.readiness = readiness;
    this.metrics = metrics;
  }

  @Override
  public boolean handle(Request request, Response response, Callback callback) throws Exception {
    String path = Request.getPathInContext(request);
    boolean ours = path.equals("/healthz") || path.equals("/readyz") || (metrics != null && path.equals("/metrics"));
    if (!ours) {
      return super.handle(request, response, callback);
    }
    response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-store");
    if (!HttpMethod.GET.is(request.getMethod()) && !HttpMethod.HEAD.is(request.getMethod())) {
      response.getHeaders().put(HttpHeader.ALLOW, "GET, HEAD");
      reply(request, response, callback, 405, "application/problem+json", problem(405, "Method Not Allowed", "GET only"));
      return true;
    }
    switch (path) {
      case "/healthz" -> reply(request, response, callback, 200, "application/json", "{\"status\":\"ok\"}");
      case "/readyz" -> readiness.whyNot().ifPresentOrElse(
          why -> reply(request, response, callback, 503, "application/problem+json",
              problem(503, "Service Unavailable", why)),
          () -> reply(request, response, callback, 200, "application/json", "{\"status\":\"ready\"}"));
      default -> reply(request, response, callback, 200, "text/plain; version=0.0.4; charset=utf-8", metrics.scrape());
    }
    return true;
  }

  private static void reply(Request request, Response response, Callback callback, int status, String type, String body) {
    response.setStatus(status);
    response.getHeaders().put(HttpHeader.CONTENT_TYPE, type);
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    response.getHeaders().put(HttpHeader.CONTENT_LENGTH, bytes.length);
    boolean head = HttpMethod.HEAD.is(request.getMethod());
    response.write(true, head ? ByteBuffer.allocate(0) : ByteBuffer.wrap(bytes), callback);
  }

  private static String problem(int status, String title, String detail) {
    return "{\"type\":\"about:blank\",\"title\":\"" + title + "\",\"status\":" + status + ",\"detail\":\""
        + detail.replace("\\", "\\\\").replace("\"", "\\\"") + "\"}";
  }
}
