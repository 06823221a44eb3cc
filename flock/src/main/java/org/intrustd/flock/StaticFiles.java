package org.intrustd.flock;

import java.nio.file.Path;
import java.util.Map;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.handler.ContextHandler;
import org.eclipse.jetty.server.handler.ContextHandlerCollection;
import org.eclipse.jetty.server.handler.ResourceHandler;
import org.eclipse.jetty.util.resource.ResourceFactory;

/**
 * Plain files under URL prefixes (the web shim and apps' pages). No directory listings;
 * {@code index.html} is a directory's page. Content types come from Jetty's table, which maps
 * {@code .js}/{@code .mjs} to {@code text/javascript} as module scripts require.
 */
final class StaticFiles {
  private StaticFiles() {}

  /** One context per prefix; Jetty routes each request to the longest matching prefix. */
  static Handler handler(Map<String, Path> mounts) {
    ContextHandlerCollection contexts = new ContextHandlerCollection();
    mounts.forEach((prefix, dir) -> {
      ResourceHandler files = new ResourceHandler();
      files.setDirAllowed(false);
      files.setWelcomeFiles("index.html");
      ContextHandler context = new ContextHandler(files, prefix);
      files.setBaseResource(ResourceFactory.of(context).newResource(dir.toAbsolutePath()));
      contexts.addHandler(context);
    });
    return contexts;
  }
}
