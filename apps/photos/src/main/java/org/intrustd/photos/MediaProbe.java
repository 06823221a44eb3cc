package org.intrustd.photos;

import com.drew.imaging.ImageMetadataReader;
import com.drew.imaging.ImageProcessingException;
import com.drew.lang.GeoLocation;
import com.drew.metadata.Directory;
import com.drew.metadata.Metadata;
import com.drew.metadata.exif.ExifIFD0Directory;
import com.drew.metadata.exif.ExifSubIFDDirectory;
import com.drew.metadata.exif.GpsDirectory;
import com.drew.metadata.gif.GifHeaderDirectory;
import com.drew.metadata.heif.HeifDirectory;
import com.drew.metadata.jpeg.JpegDirectory;
import com.drew.metadata.png.PngDirectory;
import com.drew.metadata.webp.WebpDirectory;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * What a file is, read from its own bytes and never from the name or the Content-Type the
 * client sent: its type by magic number, then dimensions, date, camera and place from its
 * headers (metadata-extractor for images, ffprobe for videos). Nothing here decodes pixels,
 * so a decompression bomb is refused from its header before any decoder sees it.
 */
final class MediaProbe {
    /** Larger images are refused: 150 MP covers stitched panoramas; a bomb claims far more. */
    static final long MAX_PIXELS = 150_000_000L;
    static final int MAX_SIDE = 65_535;
    private static final DateTimeFormatter EXIF_TIME = DateTimeFormatter.ofPattern("yyyy:MM:dd HH:mm:ss");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> HEIF_BRANDS = Set.of("heic", "heix", "heim", "heis", "hevc", "hevx", "mif1", "msf1", "avif");

    /** Why a file is refused; the message is for the person who uploaded it. */
    static final class Rejected extends Exception {
        Rejected(String message) {
            super(message);
        }
    }

    /**
     * The facts about one file. {@code takenAt} is the local wall-clock time the photo was taken
     * (EXIF has no zone), or empty when the file does not say.
     */
    record Media(String kind, String type, long width, long height, int orientation, Optional<LocalDateTime> takenAt,
            Optional<String> camera, Optional<String> lens, Optional<double[]> gps, Optional<Long> durationMs,
            boolean browserPlayable) {
    }

    private final String ffprobe;

    MediaProbe(String ffprobe) {
        this.ffprobe = ffprobe;
    }

    Media probe(Path file) throws Rejected, IOException {
        long size = Files.size(file);
        if (size == 0) {
            throw new Rejected("the file is empty");
        }
        byte[] head = new byte[32];
        int n;
        try (InputStream in = Files.newInputStream(file)) {
            n = in.readNBytes(head, 0, head.length);
        }
        String type = sniff(head, n).orElseThrow(() -> new Rejected(
                "this is not a photo or video this app knows (JPEG, PNG, GIF, WebP, HEIC/AVIF, MP4/MOV, WebM/MKV)"));
        return type.startsWith("video/") ? probeVideo(file, type) : probeImage(file, type);
    }

    /** The media type named by the first bytes of a file, if it is one we take. */
    static Optional<String> sniff(byte[] b, int n) {
        if (n >= 3 && (b[0] & 0xff) == 0xFF && (b[1] & 0xff) == 0xD8 && (b[2] & 0xff) == 0xFF) {
            return Optional.of("image/jpeg");
        }
        if (n >= 8 && (b[0] & 0xff) == 0x89 && ascii(b, 1, 3).equals("PNG") && b[4] == 0x0D && b[5] == 0x0A) {
            return Optional.of("image/png");
        }
        if (n >= 6 && (ascii(b, 0, 6).equals("GIF87a") || ascii(b, 0, 6).equals("GIF89a"))) {
            return Optional.of("image/gif");
        }
        if (n >= 12 && ascii(b, 0, 4).equals("RIFF") && ascii(b, 8, 4).equals("WEBP")) {
            return Optional.of("image/webp");
        }
        if (n >= 12 && ascii(b, 4, 4).equals("ftyp")) {
            String brand = ascii(b, 8, 4);
            if (HEIF_BRANDS.contains(brand)) {
                return Optional.of(brand.equals("avif") ? "image/avif" : "image/heic");
            }
            return Optional.of(brand.equals("qt  ") ? "video/quicktime" : "video/mp4");
        }
        if (n >= 4 && (b[0] & 0xff) == 0x1A && (b[1] & 0xff) == 0x45 && (b[2] & 0xff) == 0xDF && (b[3] & 0xff) == 0xA3) {
            return Optional.of("video/x-matroska");
        }
        return Optional.empty();
    }

    private static String ascii(byte[] b, int from, int len) {
        return new String(b, from, len, StandardCharsets.ISO_8859_1);
    }

    private Media probeImage(Path file, String type) throws Rejected, IOException {
        Metadata md;
        try (InputStream in = new BufferedInputStream(Files.newInputStream(file), 64 * 1024)) {
            md = ImageMetadataReader.readMetadata(in);
        } catch (ImageProcessingException | IOException | RuntimeException e) {
            // A header cut short is an EOFException; some malformed ones throw unchecked exceptions.
            throw new Rejected("the image's headers cannot be read: it is corrupt or truncated");
        }
        long[] dims = dimensions(md, type).orElseThrow(() -> new Rejected("the image does not say how large it is: it is corrupt"));
        long w = dims[0];
        long h = dims[1];
        if (w <= 0 || h <= 0 || w > MAX_SIDE || h > MAX_SIDE || w * h > MAX_PIXELS) {
            throw new Rejected("the image claims " + w + " × " + h + " pixels; at most " + (MAX_PIXELS / 1_000_000)
                    + " megapixels and " + MAX_SIDE + " pixels a side are accepted");
        }
        if (type.equals("image/jpeg") && !JpegStructure.complete(file)) {
            throw new Rejected("the JPEG is truncated: its image data ends before the end-of-image marker");
        }
        if (type.equals("image/png") && !pngComplete(file)) {
            throw new Rejected("the PNG is truncated: it does not end with an IEND chunk");
        }
        ExifIFD0Directory ifd0 = md.getFirstDirectoryOfType(ExifIFD0Directory.class);
        ExifSubIFDDirectory sub = md.getFirstDirectoryOfType(ExifSubIFDDirectory.class);
        int orientation = 1;
        if (ifd0 != null && ifd0.containsTag(ExifIFD0Directory.TAG_ORIENTATION)) {
            Integer o = ifd0.getInteger(ExifIFD0Directory.TAG_ORIENTATION);
            orientation = o != null && o >= 1 && o <= 8 ? o : 1;
        }
        Optional<LocalDateTime> taken = Optional.empty();
        if (sub != null) {
            taken = exifTime(sub.getString(ExifSubIFDDirectory.TAG_DATETIME_ORIGINAL))
                    .or(() -> exifTime(sub.getString(ExifSubIFDDirectory.TAG_DATETIME_DIGITIZED)));
        }
        if (taken.isEmpty() && ifd0 != null) {
            taken = exifTime(ifd0.getString(ExifIFD0Directory.TAG_DATETIME));
        }
        Optional<String> camera = Optional.empty();
        if (ifd0 != null) {
            camera = camera(ifd0.getString(ExifIFD0Directory.TAG_MAKE), ifd0.getString(ExifIFD0Directory.TAG_MODEL));
        }
        Optional<String> lens = sub == null ? Optional.empty() : clean(sub.getString(ExifSubIFDDirectory.TAG_LENS_MODEL));
        Optional<double[]> gps = Optional.empty();
        GpsDirectory gpsDir = md.getFirstDirectoryOfType(GpsDirectory.class);
        if (gpsDir != null) {
            GeoLocation at = gpsDir.getGeoLocation();
            if (at != null && !at.isZero() && Math.abs(at.getLatitude()) <= 90 && Math.abs(at.getLongitude()) <= 180) {
                gps = Optional.of(new double[] {at.getLatitude(), at.getLongitude()});
            }
        }
        // Orientations 5 to 8 turn the picture a quarter: the upright size swaps the sides.
        if (orientation >= 5) {
            long t = w;
            w = h;
            h = t;
        }
        return new Media("image", type, w, h, orientation, taken, camera, lens, gps, Optional.empty(), false);
    }

    private static Optional<long[]> dimensions(Metadata md, String type) {
        record Tags(Class<? extends Directory> dir, int width, int height) {
        }
        List<Tags> candidates = switch (type) {
            case "image/jpeg" -> List.of(new Tags(JpegDirectory.class, JpegDirectory.TAG_IMAGE_WIDTH, JpegDirectory.TAG_IMAGE_HEIGHT));
            case "image/png" -> List.of(new Tags(PngDirectory.class, PngDirectory.TAG_IMAGE_WIDTH, PngDirectory.TAG_IMAGE_HEIGHT));
            case "image/gif" -> List.of(new Tags(GifHeaderDirectory.class, GifHeaderDirectory.TAG_IMAGE_WIDTH, GifHeaderDirectory.TAG_IMAGE_HEIGHT));
            case "image/webp" -> List.of(new Tags(WebpDirectory.class, WebpDirectory.TAG_IMAGE_WIDTH, WebpDirectory.TAG_IMAGE_HEIGHT));
            default -> List.of(new Tags(HeifDirectory.class, HeifDirectory.TAG_IMAGE_WIDTH, HeifDirectory.TAG_IMAGE_HEIGHT),
                    new Tags(ExifSubIFDDirectory.class, ExifSubIFDDirectory.TAG_EXIF_IMAGE_WIDTH, ExifSubIFDDirectory.TAG_EXIF_IMAGE_HEIGHT));
        };
        for (Tags t : candidates) {
            for (Directory d : md.getDirectoriesOfType(t.dir())) {
                Long w = d.getLongObject(t.width());
                Long h = d.getLongObject(t.height());
                if (w != null && h != null) {
                    return Optional.of(new long[] {w, h});
                }
            }
        }
        return Optional.empty();
    }

    private static boolean pngComplete(Path file) throws IOException {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
            if (f.length() < 20) {
                return false;
            }
            byte[] tail = new byte[8];
            f.seek(f.length() - 8);
            f.readFully(tail);
            return ascii(tail, 0, 4).equals("IEND");
        }
    }

    private Media probeVideo(Path file, String type) throws Rejected, IOException {
        Process p = new ProcessBuilder(ffprobe, "-v", "error", "-print_format", "json", "-show_format", "-show_streams",
                file.toString()).redirectErrorStream(false).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        byte[] out;
        try (InputStream in = p.getInputStream()) {
            out = in.readNBytes(1 << 20);
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new Rejected("the video could not be read in time");
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while probing a video", e);
        }
        JsonNode info = p.exitValue() == 0 ? JSON.readTree(out) : null;
        JsonNode video = null;
        JsonNode audio = null;
        if (info != null) {
            for (JsonNode s : info.path("streams")) {
                if (video == null && s.path("codec_type").asText().equals("video")) {
                    video = s;
                } else if (audio == null && s.path("codec_type").asText().equals("audio")) {
                    audio = s;
                }
            }
        }
        if (video == null) {
            throw new Rejected("the video cannot be read: it is corrupt, truncated or has no picture");
        }
        long w = video.path("width").asLong();
        long h = video.path("height").asLong();
        if (w <= 0 || h <= 0 || w * h > MAX_PIXELS) {
            throw new Rejected("the video claims " + w + " × " + h + " pixels");
        }
        int rotation = Math.abs(video.path("tags").path("rotate").asInt(0));
        for (JsonNode side : video.path("side_data_list")) {
            rotation = Math.abs(side.path("rotation").asInt(rotation));
        }
        if (rotation % 180 == 90) {
            long t = w;
            w = h;
            h = t;
        }
        double seconds = info.path("format").path("duration").asDouble(0);
        Optional<LocalDateTime> taken = Optional.ofNullable(info.path("format").path("tags").path("creation_time").textValue())
                .flatMap(MediaProbe::isoTime);
        boolean playable = type.equals("video/mp4") && video.path("codec_name").asText().equals("h264")
                && video.path("pix_fmt").asText().equals("yuv420p")
                && (audio == null || audio.path("codec_name").asText().equals("aac"));
        return new Media("video", type, w, h, 1, taken, Optional.empty(), Optional.empty(), Optional.empty(),
                Optional.of((long) (seconds * 1000)), playable);
    }

    private static Optional<LocalDateTime> exifTime(String s) {
        if (s == null || s.isBlank() || s.startsWith("0000")) {
            return Optional.empty();
        }
        try {
            return Optional.of(LocalDateTime.parse(s.trim().substring(0, Math.min(19, s.trim().length())), EXIF_TIME));
        } catch (DateTimeParseException e) {
            return Optional.empty();
        }
    }

    /** Video containers record UTC; without the camera's zone, UTC is the wall clock we show. */
    private static Optional<LocalDateTime> isoTime(String s) {
        try {
            return Optional.of(OffsetDateTime.parse(s).withOffsetSameInstant(ZoneOffset.UTC).toLocalDateTime())
                    .filter(t -> t.getYear() > 1970);
        } catch (DateTimeParseException e) {
            return Optional.empty();
        }
    }

    /** "Canon Canon EOS R5" reads better as "Canon EOS R5": many makers repeat the make in the model. */
    private static Optional<String> camera(String make, String model) {
        Optional<String> mk = clean(make);
        Optional<String> md = clean(model);
        if (md.isEmpty()) {
            return mk;
        }
        if (mk.isEmpty() || md.get().toLowerCase().startsWith(mk.get().toLowerCase().split(" ")[0])) {
            return md;
        }
        return Optional.of(mk.get() + " " + md.get());
    }

    static Optional<String> clean(String s) {
        if (s == null) {
            return Optional.empty();
        }
        String t = s.replaceAll("[\\p{Cc}\\p{Cs}]", "").trim();
        if (t.length() > 80) {
            t = t.substring(0, 80);
        }
        return t.isEmpty() ? Optional.empty() : Optional.of(t);
    }

    /** The time a file says it was made, for photos without EXIF: as a local wall-clock time in UTC. */
    static LocalDateTime wallClock(Instant t) {
        return LocalDateTime.ofInstant(t, ZoneOffset.UTC);
    }
}
