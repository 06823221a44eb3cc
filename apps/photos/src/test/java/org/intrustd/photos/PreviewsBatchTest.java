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
 * Several images given to one run of vipsthumbnail per size: each gets its own previews, an
 * image the batch cannot make is made again alone (for its reason), and nothing is left in
 * tmp/. The real tool runs behind a wrapper that counts its runs.
 */
class PreviewsBatchTest extends PreviewsFixture {
    @Override
    Optional<Vips> vips() {
        return Optional.empty(); // the tools, as where libvips cannot be loaded in-process
    }

    @Test
    void oneRunPerSizeMakesEveryImagesPreviewsAndABrokenOneIsTriedAlone() throws Exception {
        List<Library.Job> jobs = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            jobs.add(stored(TestImages.jpeg(400 + 10 * i, 200, 100 + i), "image/jpeg"));
        }
        Library.Job upright = stored(TestImages.withExif(TestImages.jpeg(400, 200, 9),
                new TestImages.Exif("Canon", "EOS", 6, "2024:07:05 14:03:22", 1, 1)), "image/jpeg");
        jobs.add(upright);
        jobs.add(stored(TestImages.png(2000, 100), "image/png"));
        Library.Job broken = stored(TestImages.undecodable(TestImages.jpeg(200, 200, 11)), "image/jpeg");
        jobs.add(2, broken);

        Map<String, Previews.Outcome> done = previews.makeImages(jobs);

        assertThat(done).hasSize(jobs.size());
        for (Library.Job job : jobs) {
            if (job == broken) {
                assertThat(done.get(job.sha256()).preview()).isEqualTo("failed");
                assertThat(done.get(job.sha256()).error()).get().asString().contains("cannot be decoded");
                assertThat(files.derived(job.sha256(), "l.jpg")).doesNotExist();
                continue;
            }
            assertThat(done.get(job.sha256())).isEqualTo(Previews.Outcome.READY);
            BufferedImage large = TestImages.read(Files.readAllBytes(files.derived(job.sha256(), "l.jpg")));
            BufferedImage small = TestImages.read(Files.readAllBytes(files.derived(job.sha256(), "s.jpg")));
            assertThat(Math.max(small.getWidth(), small.getHeight())).isEqualTo(360);
            if (job == upright) {
                assertThat(large.getWidth()).isEqualTo(200);
                assertThat(large.getHeight()).isEqualTo(400);
            }
        }
        assertThat(TestImages.read(Files.readAllBytes(files.derived(jobs.getLast().sha256(), "l.jpg"))).getWidth()).isEqualTo(1600);
        // Two runs for the batch (large, then small from large), one more for the broken image alone.
        List<String> lines = Files.readAllLines(runs);
        assertThat(lines).hasSize(3);
        assertThat(lines.get(0)).contains(broken.sha256()).contains(upright.sha256());
        assertThat(lines.get(2)).contains(broken.sha256()).doesNotContain(upright.sha256());
        try (Stream<Path> left = Files.list(files.tmp())) {
            assertThat(left).isEmpty();
        }
    }

    @Test
    void aSingleImageIsMadeTheUsualWay() throws Exception {
        Library.Job one = stored(TestImages.jpeg(500, 300, 3), "image/jpeg");
        assertThat(previews.makeImages(List.of(one))).containsEntry(one.sha256(), Previews.Outcome.READY);
        assertThat(Files.readAllLines(runs)).hasSize(2);
        assertThat(files.derived(one.sha256(), "s.jpg")).isNotEmptyFile();
    }
}
