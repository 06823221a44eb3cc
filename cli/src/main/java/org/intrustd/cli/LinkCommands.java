package org.intrustd.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.intrustd.client.ChannelStream;
import org.intrustd.client.ClientException;
import org.intrustd.client.DeviceCredential;
import org.intrustd.client.HttpForwarder;
import org.intrustd.client.HttpStream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * An appliance's apps from this machine's command line, over the end-to-end link
 * (docs/devices.md): one request ({@code request}, like curl) or a local port
 * ({@code forward}, like {@code ssh -L}). Both sign in as this machine's enrolled device.
 */
final class LinkCommands {
  private LinkCommands() {}

  /** The appliance to reach: {@code --appliance}, or the only one this machine is enrolled with. */
  static void defaultAppliance(CommandLine cl, RemoteOptions remote) {
    if (remote.appliance != null) {
      return;
    }
    List<String> enrolled = new ArrayList<>();
    try (var files = Files.list(DeviceCredential.defaultDir())) {
      files.map(f -> f.getFileName().toString()).filter(n -> n.endsWith(".json"))
          .forEach(n -> enrolled.add(n.substring(0, n.length() - 5)));
    } catch (IOException e) {
      // no devices directory: enrolled nowhere
    }
    if (enrolled.size() != 1) {
      throw new CommandLine.ParameterException(cl, enrolled.isEmpty()
          ? "which appliance? give --appliance ID (this machine is enrolled with none: intrustd device enroll)"
          : "this machine is enrolled with " + enrolled.size() + " appliances: say which with --appliance ID");
    }
    remote.appliance = enrolled.getFirst();
  }

  @Command(name = "request", mixinStandardHelpOptions = true,
      description = "One HTTP request to an app of the appliance; the response body streams to standard output.",
      footer = {"", "Examples:",
          "  intrustd request photos /api/albums",
          "  intrustd request notes /notes -X POST -H 'Content-Type: text/plain' --data-file note.txt",
          "  intrustd request backups /big.tar -o big.tar",
          "", "Exit codes: 0 a 1xx-3xx response; 1 a 4xx/5xx response (its body still printed) or no answer; 2 bad usage."})
  static final class Request implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "APP", description = "The app's id.")
    String app;

    @Parameters(index = "1", paramLabel = "PATH", description = "The target, e.g. /api/items?limit=10.")
    String path;

    @Option(names = {"-X", "--method"}, defaultValue = "GET", description = "The method (default: ${DEFAULT-VALUE}).")
    String method;

    @Option(names = {"-H", "--header"}, paramLabel = "'NAME: VALUE'", description = "A request header (repeatable).")
    List<String> headers = new ArrayList<>();

    @Option(names = {"-d", "--data"}, paramLabel = "TEXT", description = "The request body, as given.")
    String data;

    @Option(names = "--data-file", paramLabel = "FILE", description = "The request body from a file (- for standard input), streamed.")
    String dataFile;

    @Option(names = {"-o", "--output"}, paramLabel = "FILE", description = "Write the body to FILE, not standard output.")
    Path output;

    @Option(names = {"-i", "--include"}, description = "Print the response head too.")
    boolean include;

    @Mixin
    RemoteOptions remote = new RemoteOptions();

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException {
      var cl = spec.commandLine();
      if (!path.startsWith("/") || path.chars().anyMatch(c -> c <= 0x20 || c == 0x7f)) {
        throw new CommandLine.ParameterException(cl, "PATH must start with / and hold no spaces or control characters");
      }
      if (!method.matches("[A-Z]{1,20}")) {
        throw new CommandLine.ParameterException(cl, "not a method: " + method);
      }
      if (data != null && dataFile != null) {
        throw new CommandLine.ParameterException(cl, "give --data or --data-file, not both");
      }
      StringBuilder head = new StringBuilder(method).append(' ').append(path).append(" HTTP/1.1\r\nHost: ").append(app)
          .append("\r\n");
      for (String h : headers) {
        int colon = h.indexOf(':');
        if (colon <= 0 || !h.substring(0, colon).matches("[!#$%&'*+.^_`|~0-9A-Za-z-]+") || h.contains("\r")
            || h.contains("\n")) {
          throw new CommandLine.ParameterException(cl, "not a header: " + h);
        }
        head.append(h.substring(0, colon)).append(": ").append(h.substring(colon + 1).strip()).append("\r\n");
      }
      Path bodyFile = dataFile == null || dataFile.equals("-") ? null : Path.of(dataFile);
      if (bodyFile != null && !Files.isRegularFile(bodyFile)) {
        cl.getErr().println("intrustd: no such file: " + bodyFile);
        return ControlCommand.REFUSED;
      }
      byte[] text = data == null ? null : data.getBytes(StandardCharsets.UTF_8);
      if (text != null) {
        head.append("Content-Length: ").append(text.length).append("\r\n");
      } else if (bodyFile != null) {
        head.append("Content-Length: ").append(Files.size(bodyFile)).append("\r\n");
      } else if (dataFile != null) {
        head.append("Transfer-Encoding: chunked\r\n");
      }
      head.append("\r\n");
      defaultAppliance(cl, remote);
      try (Remote r = Remote.signedIn(cl, remote); ChannelStream stream = r.client().open("http/" + app)) {
        OutputStream toApp = stream.out();
        toApp.write(head.toString().getBytes(StandardCharsets.UTF_8));
        if (text != null) {
          toApp.write(text);
        } else if (bodyFile != null) {
          try (InputStream in = Files.newInputStream(bodyFile)) {
            in.transferTo(toApp);
          }
        } else if (dataFile != null) {
          chunked(System.in, toApp);
        }
        toApp.close();
        InputStream fromApp = stream.in();
        HttpStream.Head response = HttpStream.readHead(fromApp)
            .orElseThrow(() -> new ClientException("the appliance ended the exchange with no response"));
        int status = HttpStream.status(response);
        long length = response.bodyLength(-2);
        try (OutputStream out = output == null ? new java.io.FilterOutputStream(System.out) {
          @Override
          public void close() throws IOException {
            flush(); // standard output stays open
          }
        } : Files.newOutputStream(output)) {
          if (include) {
            out.write(response.bytes());
          }
          byte[] buf = new byte[64 * 1024];
          if (method.equals("HEAD") || status == 204 || status == 304) {
            // no body
          } else if (length == -1) {
            HttpStream.copyChunked(fromApp, out, false, buf);
          } else if (length >= 0) {
            HttpStream.copyExactly(fromApp, out, length, buf);
          } else {
            fromApp.transferTo(out);
          }
          out.flush();
        }
        if (status >= 400) {
          cl.getErr().println("intrustd: " + response.startLine().substring(9));
          return ControlCommand.REFUSED;
        }
        return 0;
      } catch (ClientException e) {
        cl.getErr().println("intrustd: " + e.getMessage());
        return ControlCommand.REFUSED;
      }
    }

    /** Standard input as a chunked body: its length is not known before it ends. */
    private static void chunked(InputStream in, OutputStream out) throws IOException {
      byte[] buf = new byte[64 * 1024];
      for (int n; (n = in.read(buf)) > 0; ) {
        out.write((Integer.toHexString(n) + "\r\n").getBytes(StandardCharsets.US_ASCII));
        out.write(buf, 0, n);
        out.write(new byte[] {'\r', '\n'});
      }
      out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
    }
  }

  @Command(name = "forward", mixinStandardHelpOptions = true,
      description = "Serve an app of the appliance on 127.0.0.1:PORT of this machine, until interrupted.",
      footer = {"", "Examples:",
          "  intrustd forward photos 8080 &    then    curl http://127.0.0.1:8080/api/albums",
          "  intrustd forward mail 1143 --upgrade imap &    then a mail client on 127.0.0.1:1143 (IMAP, already logged in)",
          "", "Requests to the port go to the app over the end-to-end link, one channel each; when the link",
          "fails, the next request makes a new one. Exit codes: 1 the port is taken or the appliance cannot be reached; 2 bad usage."})
  static final class Forward implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "APP", description = "The app's id.")
    String app;

    @Parameters(index = "1", paramLabel = "PORT", description = "The local port (0: any free one, printed).")
    int port;

    @Option(names = "--upgrade", paramLabel = "PROTOCOL",
        description = "Carry a protocol that is not HTTP (e.g. imap): each connection asks the app to switch to it.")
    String upgrade;

    @Option(names = "--path", paramLabel = "PATH", description = "Where the app switches (default /api/PROTOCOL).")
    String path;

    @Mixin
    RemoteOptions remote = new RemoteOptions();

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      var cl = spec.commandLine();
      if (port < 0 || port > 65535) {
        throw new CommandLine.ParameterException(cl, "PORT must be 0 to 65535");
      }
      Optional<HttpForwarder.Tunnel> tunnel;
      try {
        tunnel = Optional.ofNullable(upgrade).map(p -> new HttpForwarder.Tunnel(p, path == null ? "/api/" + p : path));
      } catch (IllegalArgumentException e) {
        throw new CommandLine.ParameterException(cl, e.getMessage());
      }
      if (path != null && tunnel.isEmpty()) {
        throw new CommandLine.ParameterException(cl, "--path goes with --upgrade");
      }
      defaultAppliance(cl, remote);
      try (HttpForwarder f = HttpForwarder.start(app, port, tunnel, () -> Remote.signedIn(cl, remote).client(),
          message -> cl.getErr().println("intrustd: " + message))) {
        cl.getOut().printf("forwarding %s://127.0.0.1:%d/ to app '%s' on %s (Ctrl-C to stop)%n",
            tunnel.map(HttpForwarder.Tunnel::protocol).orElse("http"), f.port(), app, remote.appliance);
        cl.getOut().flush();
        CountDownLatch stop = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(stop::countDown));
        stop.await();
        return 0;
      } catch (IOException e) {
        cl.getErr().println("intrustd: cannot listen on 127.0.0.1:" + port + ": " + e.getMessage());
        return ControlCommand.REFUSED;
      } catch (ClientException e) {
        cl.getErr().println("intrustd: " + e.getMessage());
        return ControlCommand.REFUSED;
      } catch (InterruptedException e) {
        return 0;
      }
    }
  }
}
