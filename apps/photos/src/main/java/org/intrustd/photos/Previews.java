package org.intrustd.photos;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Makes the previews of one original with the host's tools, each written in tmp/ and
 * published whole: a large JPEG ({@value #LARGE} px on the long side) with libvips'
 * {@code vipsthumbnail} (shrink-on-load keeps memory small for any size we accept; it turns
 * the picture upright from its EXIF orientation and strips metadata, GPS included), then the
 * grid thumbnail ({@value #SMALL} px) from the large one, which is much faster than from the
 * original. Videos get a poster frame and, unless the original already plays in every
 * browser, an H.264/AAC MP4 made by {@code ffmpeg}.
 * <p>
 * {@link #makeImages} makes the first previews of JPEG, PNG, GIF and WebP images with libvips
 * in this process ({@link Vips}): one decode for both sizes and no tool start-up. Where
 * libvips cannot be loaded so, it gives several waiting photos to one run of each tool
 * instead (starting {@code vipsthumbnail} costs 40-80 ms, as much as the whole 360 px
 * thumbnail). Everything else, and every second attempt, runs the tools one photo at a time.
 */
final class Previews {
    static final int LARGE = 1600;
    static final int SMALL = 360;
    private static final long IMAGE_TIMEOUT_S = 120;
    private static final long VIDEO_TIMEOUT_S = 3600;

    /** How a job ended: {@code ready}, or {@code failed}/{@code unsupported} with the reason. */
    record Outcome(String preview, Optional<String> error) {
        static final Outcome READY = new Outcome("ready", Optional.empty());
    }

    private final FileStore files;
    private final String vipsthumbnail;
    private final String ffmpeg;
    private final Optional<Vips> vips;
    /** One libvips thread per run: the queue runs at least one worker per core, so more threads only contend. */
    private static final Map<String, String> VIPS_ENV = Map.of("VIPS_CONCURRENCY", "1");
    /**
     * For the formats libvips reads itself (JPEG, PNG, GIF, WebP): {@code VIPSHOME} names where
     * it looks for its loadable modules, and one with none skips loading them (HEIF, ImageMagick,
     * poppler, OpenSlide, JPEG XL). That halves the tool's start (80 → 40 ms) and keeps those
     * decoders away from whatever was uploaded.
     */
    private static final Map<String, String> VIPS_CORE_ENV = Map.of("VIPS_CONCURRENCY", "1", "VIPSHOME", "/nonexistent");
    private static final Set<String> CORE_TYPES = Set.of("image/jpeg", "image/png", "image/gif", "image/webp");

    Previews(FileStore files, String vipsthumbnail, String ffmpeg, Optional<Vips> vips) {
        this.files = files;
        this.vipsthumbnail = vipsthumbnail;
        this.ffmpeg = ffmpeg;
        this.vips = vips;
    }

    Outcome make(Library.Job job) throws IOException, InterruptedException {
        Path original = files.original(job.sha256());
        if (job.kind().equals("video")) {
            return video(job, original);
        }
        Tool.Result large = thumbnail(original.toString() + "[fail]", LARGE, job.sha256(), "l.jpg", envFor(job.type()));
        if (!large.ok()) {
            boolean heif = job.type().equals("image/heic") || job.type().equals("image/avif");
            // Debian's libheif may lack an HEVC decoder: the original is kept, the UI shows a placeholder.
            return new Outcome(heif ? "unsupported" : "failed", Optional.of((heif
                    ? "this appliance's libvips cannot decode " + job.type() + ": "
                    : "the image cannot be decoded (corrupt?): ") + large.error()));
        }
        Tool.Result small = thumbnail(files.derived(job.sha256(), "l.jpg").toString(), SMALL, job.sha256(), "s.jpg", VIPS_CORE_ENV);
        return small.ok() ? Outcome.READY : new Outcome("failed", Optional.of(small.error()));
    }

    /**
     * The previews of several images: in this process for those in the formats libvips reads
     * itself, or else with one run of {@code vipsthumbnail} per size for them. An image the
     * batch did not make (the tool goes on past a bad one) and any other image is made on its
     * own by {@link #make}, which also says why one fails.
     */
    Map<String, Outcome> makeImages(List<Library.Job> jobs) throws IOException, InterruptedException {
        Map<String, Outcome> out = new LinkedHashMap<>();
        List<Library.Job> core = jobs.stream().filter(j -> CORE_TYPES.contains(j.type())).toList();
        if (vips.isPresent()) {
            for (Library.Job job : core) {
                out.put(job.sha256(), inProcess(vips.get(), job));
            }
        } else if (core.size() > 1) {
            batch(core, out);
        }
        for (Library.Job job : jobs) {
            if (!out.containsKey(job.sha256())) {
                out.put(job.sha256(), make(job));
            }
        }
        return out;
    }

    private Outcome inProcess(Vips lib, Library.Job job) throws IOException {
        Path large = files.newTemp("-l.jpg");
        Path small = files.newTemp("-s.jpg");
        try {
            lib.previews(files.original(job.sha256()), large, LARGE, small, SMALL);
            if (Files.size(large) == 0 || Files.size(small) == 0) {
                return new Outcome("failed", Optional.of("libvips wrote an empty preview"));
            }
            files.publishDerived(large, files.derived(job.sha256(), "l.jpg"));
            files.publishDerived(small, files.derived(job.sha256(), "s.jpg"));
            return Outcome.READY;
        } catch (Vips.Failed e) {
            return new Outcome("failed", Optional.of("the image cannot be decoded (corrupt?): " + e.getMessage()));
        } finally {
            Files.deleteIfExists(large);
            Files.deleteIfExists(small);
        }
    }

    private void batch(List<Library.Job> jobs, Map<String, Outcome> out) throws IOException, InterruptedException {
        String batch = files.newTemp("").getFileName().toString();
        List<String> originals = jobs.stream().map(j -> files.original(j.sha256()) + "[fail]").toList();
        batchThumbnail(originals, LARGE, batch + "-%s-l.jpg");
        Map<String, Path> large = outputs(batch + "-", "-l.jpg");
        batchThumbnail(large.values().stream().map(Path::toString).toList(), SMALL, batch + "s-%s-s.jpg");
        Map<String, Path> small = outputs(batch + "s-", "-s.jpg");
        for (Library.Job job : jobs) {
            Path l = large.get(job.sha256());
            Path s = small.get(job.sha256());
            if (l != null && s != null && Files.size(l) > 0 && Files.size(s) > 0) {
                files.publishDerived(l, files.derived(job.sha256(), "l.jpg"));
                files.publishDerived(s, files.derived(job.sha256(), "s.jpg"));
                out.put(job.sha256(), Outcome.READY);
            }
        }
        for (Path p : large.values()) {
            Files.deleteIfExists(p);
        }
        for (Path p : small.values()) {
            Files.deleteIfExists(p);
        }
    }

    private void batchThumbnail(List<String> inputs, int size, String pattern) throws IOException, InterruptedException {
        if (inputs.isEmpty()) {
            return;
        }
        List<String> command = new ArrayList<>();
        command.add(vipsthumbnail);
        command.addAll(inputs);
        command.addAll(List.of("--size", size + "x" + size + ">", "-o",
                files.tmp().resolve(pattern) + "[Q=" + (size == SMALL ? 78 : 85) + ",strip,optimize_coding]"));
        // The exit status only says that some image failed; which ones is read from what was written.
        Tool.run(command, VIPS_CORE_ENV, IMAGE_TIMEOUT_S * inputs.size());
    }

    /**
     * What a batch wrote, by the hash of its original: vipsthumbnail names each output after
     * its input ({@code %s}), which for originals is the hash (with the load options some
     * versions keep in the name, hence the search rather than an expected name).
     */
    private Map<String, Path> outputs(String prefix, String suffix) throws IOException {
        Map<String, Path> found = new HashMap<>();
        try (DirectoryStream<Path> dir = Files.newDirectoryStream(files.tmp(), prefix + "*" + suffix)) {
            for (Path p : dir) {
                Matcher m = SHA_IN_NAME.matcher(p.getFileName().toString().substring(prefix.length()));
                if (m.find()) {
                    found.put(m.group(), p);
                }
            }
        }
        return found;
    }

    private static final Pattern SHA_IN_NAME = Pattern.compile("[0-9a-f]{64}");

    private static Map<String, String> envFor(String type) {
        return CORE_TYPES.contains(type) ? VIPS_CORE_ENV : VIPS_ENV;
    }

    private Tool.Result thumbnail(String input, int size, String sha256, String suffix, Map<String, String> env)
            throws IOException, InterruptedException {
        Path out = files.newTemp(".jpg");
        // ">" only ever shrinks: a small original keeps its size.
        Tool.Result r = Tool.run(List.of(vipsthumbnail, input, "--size", size + "x" + size + ">",
                "-o", out + "[Q=" + (size == SMALL ? 78 : 85) + ",strip,optimize_coding]"), env, IMAGE_TIMEOUT_S);
        return publishIf(r, out, files.derived(sha256, suffix));
    }

    private Outcome video(Library.Job job, Path original) throws IOException, InterruptedException {
        Path poster = files.newTemp(".jpg");
        Tool.Result frame = Tool.run(List.of(ffmpeg, "-nostdin", "-v", "error", "-y", "-i", original.toString(),
                "-vf", "thumbnail=50", "-frames:v", "1", "-q:v", "3", poster.toString()), Map.of(), IMAGE_TIMEOUT_S);
        frame = publishIf(frame, poster, files.derived(job.sha256(), "poster.jpg"));
        if (!frame.ok()) {
            return new Outcome("failed", Optional.of("no frame could be read from the video: " + frame.error()));
        }
        Path posterFile = files.derived(job.sha256(), "poster.jpg");
        Tool.Result large = thumbnail(posterFile.toString(), LARGE, job.sha256(), "l.jpg", VIPS_CORE_ENV);
        Tool.Result small = large.ok() ? thumbnail(posterFile.toString(), SMALL, job.sha256(), "s.jpg", VIPS_CORE_ENV) : large;
        if (!small.ok()) {
            return new Outcome("failed", Optional.of(small.error()));
        }
        if (job.playable()) {
            return Outcome.READY;
        }
        Path mp4 = files.newTemp(".mp4");
        Tool.Result play = Tool.run(List.of(ffmpeg, "-nostdin", "-v", "error", "-y", "-i", original.toString(),
                "-map", "0:v:0", "-map", "0:a:0?", "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p",
                // At most 1280 on the long side, even sizes (H.264 needs them).
                "-vf", "scale='if(gte(iw,ih),min(1280,iw),-2)':'if(gte(iw,ih),-2,min(1280,ih))'",
                "-c:a", "aac", "-b:a", "128k", "-movflags", "+faststart", "-f", "mp4", mp4.toString()), Map.of(), VIDEO_TIMEOUT_S);
        play = publishIf(play, mp4, files.derived(job.sha256(), "play.mp4"));
        return play.ok() ? Outcome.READY : new Outcome("failed", Optional.of("the video could not be converted: " + play.error()));
    }

    private Tool.Result publishIf(Tool.Result r, Path written, Path target) throws IOException {
        if (r.ok() && Files.isRegularFile(written) && Files.size(written) > 0) {
            files.publishDerived(written, target);
            return r;
        }
        Files.deleteIfExists(written);
        return r.ok() ? new Tool.Result(false, "the tool wrote nothing") : r;
    }

    /** Runs a host tool with a time limit, keeping the end of what it says on stderr for the error. */
    static final class Tool {
        record Result(boolean ok, String error) {
        }

        static Result run(List<String> command, Map<String, String> env, long timeoutSeconds) throws IOException, InterruptedException {
            ProcessBuilder pb = new ProcessBuilder(new ArrayList<>(command)).redirectOutput(ProcessBuilder.Redirect.DISCARD);
            pb.environment().putAll(env);
            Process p = pb.start();
            // stderr is drained beside the wait, so a chatty tool never blocks on a full pipe.
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            Thread drain = Thread.ofVirtual().start(() -> {
                try (InputStream in = p.getErrorStream()) {
                    byte[] buf = new byte[8192];
                    int n;
                    while ((n = in.read(buf)) > 0) {
                        if (err.size() < 64 * 1024) {
                            err.write(buf, 0, n);
                        }
                    }
                } catch (IOException e) {
                    // The process was killed: what it said so far is enough.
                }
            });
            try {
                if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    return new Result(false, command.getFirst() + " took more than " + timeoutSeconds + " s");
                }
            } finally {
                // An interrupted wait (the app stopping) must not leave the tool running.
                if (p.isAlive()) {
                    p.destroyForcibly();
                }
            }
            drain.join(5000);
            String text = err.toString(StandardCharsets.UTF_8).strip().replaceAll("\\s+", " ");
            if (text.length() > 300) {
                text = text.substring(text.length() - 300);
            }
            String tool = Path.of(command.getFirst()).getFileName().toString().toLowerCase(Locale.ROOT);
            return p.exitValue() == 0 ? new Result(true, "") : new Result(false, text.isEmpty() ? tool + " failed" : text);
        }
    }
}
