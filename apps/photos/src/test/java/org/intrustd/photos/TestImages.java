package org.intrustd.photos;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;

/** Real image and video files for the tests, made here: JPEGs with chosen EXIF, bombs, videos by ffmpeg. */
final class TestImages {
    private TestImages() {
    }

    /** A JPEG of {@code w}×{@code h} pixels whose colours depend on {@code seed} (so each seed is a different file). */
    static byte[] jpeg(int w, int h, int seed) throws IOException {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setColor(new Color(seed * 7919 & 0xFFFFFF));
        g.fillRect(0, 0, w, h);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, w / 4, h / 4); // a mark in the top-left corner, to see rotation
        g.dispose();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(img, "jpg", out);
        return out.toByteArray();
    }

    /**
     * {@code jpeg} with a scan that names Huffman tables the file never defines: every marker is
     * whole, so the upload's checks pass, but the picture cannot be decoded.
     */
    static byte[] undecodable(byte[] jpeg) {
        byte[] broken = jpeg.clone();
        for (int i = 2; i + 1 < broken.length; i++) {
            if ((broken[i] & 0xFF) == 0xFF && (broken[i + 1] & 0xFF) == 0xDA) {
                broken[i + 6] = 0x33; // first component's DC/AC table selectors: tables 3, undefined
                return broken;
            }
        }
        throw new IllegalArgumentException("no scan in this JPEG");
    }

    static byte[] png(int w, int h) throws IOException {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(img, "png", out);
        return out.toByteArray();
    }

    /** The EXIF facts to write. */
    record Exif(String make, String model, int orientation, String dateTimeOriginal, double lat, double lon) {
    }

    /** {@code jpeg} with an EXIF APP1 segment (IFD0, Exif IFD and GPS IFD) right after its SOI marker. */
    static byte[] withExif(byte[] jpeg, Exif e) {
        ByteBuffer t = ByteBuffer.allocate(1024).order(ByteOrder.LITTLE_ENDIAN);
        t.put("II".getBytes(StandardCharsets.US_ASCII)).putShort((short) 42).putInt(8);
        byte[] make = ascii(e.make());
        byte[] model = ascii(e.model());
        int ifd0 = 8;
        int data = ifd0 + 2 + 5 * 12 + 4;
        int makeAt = data;
        int modelAt = even(makeAt + make.length);
        int exifIfd = even(modelAt + model.length);
        int dateAt = exifIfd + 2 + 12 + 4;
        byte[] date = ascii(e.dateTimeOriginal());
        int gpsIfd = even(dateAt + date.length);
        int latAt = gpsIfd + 2 + 4 * 12 + 4;
        int lonAt = latAt + 24;

        t.position(ifd0);
        t.putShort((short) 5);
        text(t, 0x010F, make, makeAt);
        text(t, 0x0110, model, modelAt);
        t.putShort((short) 0x0112).putShort((short) 3).putInt(1).putShort((short) e.orientation()).putShort((short) 0);
        entry(t, 0x8769, 4, 1, exifIfd);
        entry(t, 0x8825, 4, 1, gpsIfd);
        t.putInt(0);
        t.position(makeAt);
        t.put(make);
        t.position(modelAt);
        t.put(model);
        t.position(exifIfd);
        t.putShort((short) 1);
        entry(t, 0x9003, 2, date.length, dateAt);
        t.putInt(0);
        t.position(dateAt);
        t.put(date);
        t.position(gpsIfd);
        t.putShort((short) 4);
        t.putShort((short) 1).putShort((short) 2).putInt(2).put((byte) (e.lat() >= 0 ? 'N' : 'S')).put((byte) 0).putShort((short) 0);
        entry(t, 2, 5, 3, latAt);
        t.putShort((short) 3).putShort((short) 2).putInt(2).put((byte) (e.lon() >= 0 ? 'E' : 'W')).put((byte) 0).putShort((short) 0);
        entry(t, 4, 5, 3, lonAt);
        t.putInt(0);
        t.position(latAt);
        dms(t, Math.abs(e.lat()));
        dms(t, Math.abs(e.lon()));
        int tiffLength = t.position();

        byte[] header = "Exif\0\0".getBytes(StandardCharsets.US_ASCII);
        int segLength = 2 + header.length + tiffLength;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(jpeg, 0, 2);
        out.write(0xFF);
        out.write(0xE1);
        out.write(segLength >> 8);
        out.write(segLength & 0xFF);
        out.writeBytes(header);
        out.write(t.array(), 0, tiffLength);
        out.write(jpeg, 2, jpeg.length - 2);
        return out.toByteArray();
    }

    /** An ASCII entry: up to 4 bytes sit in the entry itself (TIFF 6.0), longer ones at {@code at}. */
    private static void text(ByteBuffer t, int tag, byte[] value, int at) {
        if (value.length > 4) {
            entry(t, tag, 2, value.length, at);
            return;
        }
        t.putShort((short) tag).putShort((short) 2).putInt(value.length);
        byte[] inline = java.util.Arrays.copyOf(value, 4);
        t.put(inline);
    }

    private static void entry(ByteBuffer t, int tag, int type, int count, int value) {
        t.putShort((short) tag).putShort((short) type).putInt(count).putInt(value);
    }

    private static void dms(ByteBuffer t, double deg) {
        int d = (int) deg;
        double m = (deg - d) * 60;
        int mi = (int) m;
        long s100 = Math.round((m - mi) * 60 * 100);
        t.putInt(d).putInt(1).putInt(mi).putInt(1).putInt((int) s100).putInt(100);
    }

    private static byte[] ascii(String s) {
        return (s + "\0").getBytes(StandardCharsets.US_ASCII);
    }

    private static int even(int n) {
        return (n + 1) & ~1;
    }

    /** {@code jpeg} with its frame header claiming {@code w}×{@code h} pixels: a decompression bomb's header. */
    static byte[] claimingSize(byte[] jpeg, int w, int h) {
        byte[] out = jpeg.clone();
        for (int i = 2; i + 9 < out.length; ) {
            int marker = out[i + 1] & 0xFF;
            int len = ((out[i + 2] & 0xFF) << 8) | (out[i + 3] & 0xFF);
            if (marker == 0xC0 || marker == 0xC2) {
                out[i + 5] = (byte) (h >> 8);
                out[i + 6] = (byte) h;
                out[i + 7] = (byte) (w >> 8);
                out[i + 8] = (byte) w;
                return out;
            }
            i += 2 + len;
        }
        throw new IllegalArgumentException("no frame header");
    }

    /** A PNG whose IHDR claims {@code w}×{@code h} (its CRC no longer matches, as in a crafted bomb). */
    static byte[] pngClaimingSize(byte[] png, int w, int h) {
        byte[] out = png.clone();
        ByteBuffer.wrap(out, 16, 8).putInt(w).putInt(h);
        return out;
    }

    /** A short video made by ffmpeg (MPEG-4 part 2 in MP4: not browser-playable, so it must be converted). */
    static Path video(Path dir, String codec) throws IOException, InterruptedException {
        Path out = dir.resolve("clip-" + codec + ".mp4");
        Process p = new ProcessBuilder(List.of("ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i",
                "testsrc=duration=2:size=320x240:rate=10", "-f", "lavfi", "-i", "sine=frequency=440:duration=2",
                "-c:v", codec, "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", out.toString()))
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException("ffmpeg could not make a test video");
        }
        return out;
    }

    static BufferedImage read(byte[] image) throws IOException {
        return ImageIO.read(new java.io.ByteArrayInputStream(image));
    }
}
