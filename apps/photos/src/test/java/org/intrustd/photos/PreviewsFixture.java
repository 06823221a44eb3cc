package org.intrustd.photos;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/** A file store in a temporary folder, and Previews whose vipsthumbnail is the real tool behind a wrapper that counts its runs. */
abstract class PreviewsFixture {
    Path dir;
    FileStore files;
    Path runs;
    Previews previews;

    /** libvips in-process, or empty for the tools alone. */
    abstract Optional<Vips> vips();

    @BeforeEach
    void setUp() throws Exception {
        dir = Files.createTempDirectory(Path.of("/tmp"), "previews");
        files = new FileStore(Files.createDirectories(dir.resolve("data")));
        runs = dir.resolve("runs");
        Path wrapper = dir.resolve("vipsthumbnail");
        Files.writeString(wrapper, "#!/bin/sh\necho \"$*\" >> " + runs + "\nexec vipsthumbnail \"$@\"\n");
        Files.setPosixFilePermissions(wrapper, PosixFilePermissions.fromString("rwx------"));
        previews = new Previews(files, wrapper.toString(), "ffmpeg", vips());
    }

    @AfterEach
    void tearDown() throws Exception {
        try (Stream<Path> all = Files.walk(dir)) {
            all.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    /** An original in the store, as an upload leaves it, and its preview job. */
    Library.Job stored(byte[] bytes, String type) throws Exception {
        String sha = PhotosApiTest.sha256(bytes);
        Path temp = files.newTemp(".part");
        Files.write(temp, bytes);
        files.publish(temp, files.original(sha));
        return new Library.Job(sha, "image", type, false);
    }
}
