package org.intrustd.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import org.intrustd.client.ChannelStream;
import org.intrustd.client.ClientException;
import org.intrustd.client.HttpStream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** The photos app from a laptop, over the end-to-end link (docs/photos.md). */
@Command(name = "photos", mixinStandardHelpOptions = true,
    description = "Work with the photos app of an appliance.",
    subcommands = {PhotosCommand.Import.class})
final class PhotosCommand {
  private static final ObjectMapper JSON = new ObjectMapper();
  /** What the app takes, by extension; it checks every file's bytes itself. */
  static final Set<String> EXTENSIONS = Set.of("jpg", "jpeg", "png", "gif", "webp", "heic", "heif", "avif", "mp4", "m4v",
      "mov", "mkv", "webm");

  private PhotosCommand() {}

  @Command(name = "import", mixinStandardHelpOptions = true,
      description = "Upload every photo and video under a folder to your library; files it already has are skipped"
          + " by content, so an interrupted import can simply be run again.",
      footer = {"", "Examples:",
          "  intrustd photos import ~/Pictures/2024",
          "  intrustd photos import /media/card/DCIM --appliance ABCDEFG-... --json",
          "", "Exit codes: 0 every file added or already there; 1 some files were refused (each is named) or the"
              + " appliance could not be reached; 2 bad usage."})
  static final class Import implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "FOLDER", description = "The folder to import (with its subfolders).")
    Path folder;

    @Option(names = "--json", description = "Print a JSON summary instead of a line per file.")
    boolean json;

    @Mixin
    RemoteOptions remote = new RemoteOptions();

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException {
      var cl = spec.commandLine();
      if (!Files.isDirectory(folder)) {
        throw new CommandLine.ParameterException(cl, folder + " is not a folder");
      }
      List<Path> files;
      try (Stream<Path> walk = Files.walk(folder)) {
        files = walk.filter(Files::isRegularFile).filter(Import::looksLikeMedia).sorted().toList();
      }
      long total = 0;
      for (Path f : files) {
        total += Files.size(f);
      }
      LinkCommands.defaultAppliance(cl, remote);
      int added = 0;
      int duplicates = 0;
      ArrayNode failed = JSON.createArrayNode();
      long sent = 0;
      try (Remote r = Remote.signedIn(cl, remote);
          ProgressBar bar = ProgressBar.onTerminal(cl.getErr(), "importing " + files.size() + " files", total, json)) {
        for (Path f : files) {
          String shown = folder.relativize(f).toString();
          JsonNode answer;
          int status;
          try (ChannelStream stream = r.client().open("http/photos")) {
            Answer a = upload(stream, f);
            status = a.status();
            answer = a.body();
          }
          sent += Files.size(f);
          bar.accept(sent);
          if (status == 201 || status == 200) {
            if (status == 201) {
              added++;
            } else {
              duplicates++;
            }
            if (!json) {
              cl.getOut().println((status == 201 ? "added      " : "already in ") + shown);
            }
          } else {
            String detail = answer.path("detail").asText("refused (" + status + ")");
            failed.addObject().put("file", shown).put("status", status).put("detail", detail);
            if (!json) {
              cl.getErr().println("refused    " + shown + ": " + detail);
            }
            if (status == 401 || status == 403 || status == 507) {
              break; // every other file would be refused the same way
            }
          }
        }
      } catch (ClientException e) {
        cl.getErr().println("intrustd: " + e.getMessage());
        return ControlCommand.REFUSED;
      }
      if (json) {
        ObjectNode out = JSON.createObjectNode().put("files", files.size()).put("added", added).put("duplicates", duplicates);
        out.set("failed", failed);
        cl.getOut().println(out.toPrettyString());
      } else {
        cl.getOut().printf("%d added, %d already in the library, %d refused%n", added, duplicates, failed.size());
      }
      cl.getOut().flush();
      return failed.isEmpty() ? 0 : ControlCommand.REFUSED;
    }

    private static boolean looksLikeMedia(Path p) {
      String name = p.getFileName().toString();
      int dot = name.lastIndexOf('.');
      return !name.startsWith(".") && dot > 0 && EXTENSIONS.contains(name.substring(dot + 1).toLowerCase(Locale.ROOT));
    }
  }

  record Answer(int status, JsonNode body) {}

  /** A file's time as this machine's clock shows it, with its UTC offset: the app dates a photo without EXIF by it. */
  static String localTime(java.time.Instant t) {
    return t.truncatedTo(java.time.temporal.ChronoUnit.SECONDS).atZone(java.time.ZoneId.systemDefault()).toOffsetDateTime().toString();
  }

  /** One {@code POST /api/photos} with the file streamed as its body; the file's time goes along for photos without EXIF. */
  static Answer upload(ChannelStream stream, Path file) throws IOException {
    String target = "/api/photos?name=" + URLEncoder.encode(file.getFileName().toString(), StandardCharsets.UTF_8)
        + "&modified=" + URLEncoder.encode(localTime(Files.getLastModifiedTime(file).toInstant()), StandardCharsets.UTF_8);
    String head = "POST " + target + " HTTP/1.1\r\nHost: photos\r\nContent-Length: " + Files.size(file) + "\r\n\r\n";
    OutputStream toApp = stream.out();
    toApp.write(head.getBytes(StandardCharsets.UTF_8));
    try (InputStream in = Files.newInputStream(file)) {
      in.transferTo(toApp);
    }
    toApp.close();
    InputStream fromApp = stream.in();
    HttpStream.Head response = HttpStream.readHead(fromApp)
        .orElseThrow(() -> new ClientException("the appliance ended the exchange with no response"));
    long length = response.bodyLength(-2);
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    byte[] buf = new byte[16 * 1024];
    if (length == -1) {
      HttpStream.copyChunked(fromApp, body, false, buf);
    } else if (length >= 0 && length <= 1 << 20) {
      HttpStream.copyExactly(fromApp, body, length, buf);
    }
    JsonNode parsed;
    try {
      parsed = body.size() == 0 ? JSON.createObjectNode() : JSON.readTree(body.toByteArray());
    } catch (IOException e) {
      parsed = JSON.createObjectNode().put("detail", "the app answered something that is not JSON");
    }
    return new Answer(HttpStream.status(response), parsed);
  }
}
