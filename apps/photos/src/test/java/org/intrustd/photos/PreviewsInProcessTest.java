package org.intrustd.photos;

import static org.assertj.core.api.Assertions.assertThat;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * First previews of JPEG, PNG, GIF and WebP made by libvips in the app's process: the same
 * pictures as vipsthumbnail makes, upright, no tool run; a broken image fails with libvips'
 * reason; nothing is left in tmp/. The tool runs behind a wrapper that counts its runs.
 */
class PreviewsInProcessTest extends PreviewsFixture {
    @Override
    Optional<Vips> vips() {
        return Vips.load();
    }

    @Test
    void libvipsLoadsInProcess() {
        assertThat(Vips.load()).as("libvips.so.42 (Debian libvips42, which vipsthumbnail needs too)").isPresent();
    }

    @Test
    void previewsAreMadeInProcessAsTheToolMakesThem() throws Exception {
        Library.Job plain = stored(TestImages.jpeg(2400, 1800, 5), "image/jpeg");
        Library.Job upright = stored(TestImages.withExif(TestImages.jpeg(400, 200, 9),
                new TestImages.Exif("Canon", "EOS", 6, "2024:07:05 14:03:22", 1, 1)), "image/jpeg");
        Library.Job wide = stored(TestImages.png(2000, 100), "image/png");
        Library.Job broken = stored(TestImages.undecodable(TestImages.jpeg(200, 200, 11)), "image/jpeg");
        List<Library.Job> jobs = new ArrayList<>(List.of(plain, broken, upright, wide));

        Map<String, Previews.Outcome> done = previews.makeImages(jobs);

        assertThat(done).hasSize(jobs.size());
        assertThat(done.get(broken.sha256()).preview()).isEqualTo("failed");
        assertThat(done.get(broken.sha256()).error()).get().asString().contains("cannot be decoded");
        assertThat(files.derived(broken.sha256(), "l.jpg")).doesNotExist();
        for (Library.Job job : List.of(plain, upright, wide)) {
            assertThat(done.get(job.sha256())).isEqualTo(Previews.Outcome.READY);
            BufferedImage small = TestImages.read(Files.readAllBytes(files.derived(job.sha256(), "s.jpg")));
            assertThat(Math.max(small.getWidth(), small.getHeight())).isEqualTo(360);
        }
        BufferedImage large = TestImages.read(Files.readAllBytes(files.derived(upright.sha256(), "l.jpg")));
        assertThat(List.of(large.getWidth(), large.getHeight())).as("turned upright").containsExactly(200, 400);
        assertThat(TestImages.read(Files.readAllBytes(files.derived(wide.sha256(), "l.jpg"))).getWidth()).isEqualTo(1600);
        assertThat(runs).as("no tool run").doesNotExist();
        try (Stream<Path> left = Files.list(files.tmp())) {
            assertThat(left).isEmpty();
        }
        // The same large preview, byte for byte, as vipsthumbnail makes with the app's options.
        Path byTool = dir.resolve("tool.jpg");
        Previews.Tool.Result r = Previews.Tool.run(List.of("vipsthumbnail", files.original(plain.sha256()).toString(), "--size",
                "1600x1600>", "-o", byTool + "[Q=85,strip,optimize_coding]"), Map.of("VIPS_CONCURRENCY", "1"), 60);
        assertThat(r.ok()).as(r.error()).isTrue();
        assertThat(Files.readAllBytes(files.derived(plain.sha256(), "l.jpg"))).isEqualTo(Files.readAllBytes(byTool));
    }
}
