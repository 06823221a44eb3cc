package org.intrustd.client;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Parses a whole HTTP/1.1 response (everything the appliance sent before END): the status
 * line, headers, and a body framed by Content-Length, chunked encoding, or the end of the
 * stream. Strict: anything malformed is a {@link ClientException} that says what.
 */
final class ResponseParser {
  static final int MAX_HEAD = 64 * 1024;

  private ResponseParser() { }

  static HttpResult parse(byte[] all) {
    int headEnd = indexOf(all, "\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1), 0, Math.min(all.length, MAX_HEAD + 4));
    if (headEnd < 0) {
      throw new ClientException(all.length >= MAX_HEAD ? "the response head is over " + MAX_HEAD + " bytes"
          : "the response ended before its head did (" + all.length + " bytes)");
    }
    String[] lines = new String(all, 0, headEnd, StandardCharsets.ISO_8859_1).split("\r\n", -1);
    String[] status = lines[0].split(" ", 3);
    if (status.length < 2 || !status[0].equals("HTTP/1.1") || !status[1].matches("[1-5][0-9][0-9]")) {
      throw new ClientException("not an HTTP/1.1 status line: " + abbreviate(lines[0]));
    }
    Map<String, List<String>> headers = new LinkedHashMap<>();
    for (int i = 1; i < lines.length; i++) {
      int colon = lines[i].indexOf(':');
      if (colon <= 0 || !lines[i].substring(0, colon).matches("[!#$%&'*+.^_`|~0-9A-Za-z-]+")) {
        throw new ClientException("a malformed response header: " + abbreviate(lines[i]));
      }
      headers.computeIfAbsent(lines[i].substring(0, colon).toLowerCase(Locale.ROOT), k -> new ArrayList<>())
          .add(lines[i].substring(colon + 1).strip());
    }
    int bodyStart = headEnd + 4;
    byte[] body;
    List<String> te = headers.getOrDefault("transfer-encoding", List.of());
    List<String> cl = headers.getOrDefault("content-length", List.of());
    if (!te.isEmpty()) {
      if (!(te.size() == 1 && te.getFirst().equalsIgnoreCase("chunked"))) {
        throw new ClientException("an unsupported transfer encoding: " + te);
      }
      body = dechunk(all, bodyStart);
    } else if (!cl.isEmpty()) {
      long n;
      try {
        n = cl.size() == 1 ? Long.parseLong(cl.getFirst()) : -1;
      } catch (NumberFormatException e) {
        n = -1;
      }
      if (n < 0 || !cl.getFirst().matches("[0-9]+")) {
        throw new ClientException("a malformed Content-Length: " + cl);
      }
      if (all.length - bodyStart != n) {
        throw new ClientException("the body has " + (all.length - bodyStart) + " bytes; Content-Length said " + n);
      }
      body = java.util.Arrays.copyOfRange(all, bodyStart, all.length);
    } else {
      body = java.util.Arrays.copyOfRange(all, bodyStart, all.length);
    }
    return new HttpResult(Integer.parseInt(status[1]), status.length > 2 ? status[2] : "", headers, body);
  }

  private static byte[] dechunk(byte[] all, int from) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int at = from;
    while (true) {
      int eol = indexOf(all, new byte[] {'\r', '\n'}, at, all.length);
      if (eol < 0 || eol - at > 32) {
        throw new ClientException("a malformed chunk size line");
      }
      String sizeText = new String(all, at, eol - at, StandardCharsets.ISO_8859_1);
      int semi = sizeText.indexOf(';');
      String hex = (semi < 0 ? sizeText : sizeText.substring(0, semi)).strip();
      if (!hex.matches("[0-9A-Fa-f]{1,8}")) {
        throw new ClientException("a malformed chunk size: " + abbreviate(sizeText));
      }
      long size = Long.parseLong(hex, 16);
      at = eol + 2;
      if (size == 0) {
        return out.toByteArray(); // trailers, if any, are ignored
      }
      if (size > all.length - at - 2L) {
        throw new ClientException("a chunk runs past the end of the response");
      }
      out.write(all, at, (int) size);
      at += (int) size;
      if (all[at] != '\r' || all[at + 1] != '\n') {
        throw new ClientException("a chunk is not followed by CRLF");
      }
      at += 2;
    }
  }

  static int indexOf(byte[] haystack, byte[] needle, int from, int to) {
    outer:
    for (int i = from; i <= to - needle.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }

  private static String abbreviate(String s) {
    String printable = s.replaceAll("[^\\x20-\\x7e]", "?");
    return printable.length() > 80 ? printable.substring(0, 80) + "…" : printable;
  }
}
