package org.intrustd.photos;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Makes the previews of one original with the host's tools, each written in tmp/ and
 * published whole: a large JPEG ({@value #LARGE} px on the long side) with libvips'
 * {@code vipsthumbnail} (shrink-on-load keeps memory small for any size we accept; it turns
 * the picture upright from its EXIF orientation and strips metadata, GPS included), then the
 * grid thumbnail ({@value #SMALL} px) from the large one, which is much faster than from the
 * original. Videos get a poster frame and, unless the original already plays in every
 * browser, an H.264/AAC MP4 made by {@code ffmpeg}.
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
    /** One libvips thread per run: the queue runs at least one worker per core, so more threads only contend. */
    private static final Map<String, String> VIPS_ENV = Map.of("VIPS_CONCURRENCY", "1");

    Previews(FileStore files, String vipsthumbnail, String ffmpeg) {
        this.files = files;
        this.vipsthumbnail = vipsthumbnail;
        this.ffmpeg = ffmpeg;
    }

    Outcome make(Library.Job job) throws IOException, InterruptedException {
        Path original = files.original(job.sha256());
        if (job.kind().equals("video")) {
            return video(job, original);
        }
        Tool.Result large = thumbnail(original.toString() + "[fail]", LARGE, job.sha256(), "l.jpg");
        if (!large.ok()) {
            boolean heif = job.type().equals("image/heic") || job.type().equals("image/avif");
            // Debian's libheif may lack an HEVC decoder: the original is kept, the UI shows a placeholder.
            return new Outcome(heif ? "unsupported" : "failed", Optional.of((heif
                    ? "this appliance's libvips cannot decode " + job.type() + ": "
                    : "the image cannot be decoded (corrupt?): ") + large.error()));
        }
        Tool.Result small = thumbnail(files.derived(job.sha256(), "l.jpg").toString(), SMALL, job.sha256(), "s.jpg");
        return small.ok() ? Outcome.READY : new Outcome("failed", Optional.of(small.error()));
    }

    private Tool.Result thumbnail(String input, int size, String sha256, String suffix) throws IOException, InterruptedException {
        Path out = files.newTemp(".jpg");
        // ">" only ever shrinks: a small original keeps its size.
        Tool.Result r = Tool.run(List.of(vipsthumbnail, input, "--size", size + "x" + size + ">",
                "-o", out + "[Q=" + (size == SMALL ? 78 : 85) + ",strip,optimize_coding]"), VIPS_ENV, IMAGE_TIMEOUT_S);
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
        Tool.Result large = thumbnail(posterFile.toString(), LARGE, job.sha256(), "l.jpg");
        Tool.Result small = large.ok() ? thumbnail(posterFile.toString(), SMALL, job.sha256(), "s.jpg") : large;
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
