package org.intrustd.backup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MetadataTest {
    @TempDir
    Path dir;

    @Test
    void theCLibraryIsUsedOnLinux() {
        assertThat(Metadata.isNative()).isTrue();
    }

    @Test
    void setsTheModificationTimeToTheNanosecondOfALinkItselfAndLeavesTheAccessTime() throws IOException {
        Path target = Files.writeString(dir.resolve("target"), "x");
        Path link = Files.createSymbolicLink(dir.resolve("link"), target.getFileName());
        FileTime atime = FileTime.from(Instant.parse("2020-01-02T03:04:05Z"));
        Files.setAttribute(target, "lastAccessTime", atime);
        FileTime targetMtime = Files.getLastModifiedTime(target);

        long fileTime = Instant.parse("2001-09-09T01:46:40.123456789Z").getEpochSecond() * 1_000_000_000L + 123_456_789;
        Metadata.modified(target, fileTime);
        long before1970 = -86_400L * 1_000_000_000L - 1; // a day and a nanosecond before the epoch
        Metadata.modified(link, before1970);

        assertThat(nanos(Files.getLastModifiedTime(target))).isEqualTo(fileTime);
        assertThat(Files.getAttribute(target, "lastAccessTime")).isEqualTo(atime);
        assertThat(nanos(Files.getLastModifiedTime(link, LinkOption.NOFOLLOW_LINKS))).isEqualTo(before1970);
        assertThat(nanos(Files.getLastModifiedTime(target))).isEqualTo(fileTime).isNotEqualTo(nanos(targetMtime));
    }

    @Test
    void changesTheOwnerOfALinkNotOfWhatItNames() throws IOException {
        assumeThat(System.getProperty("user.name")).as("chown needs root").isEqualTo("root");
        Path target = Files.writeString(dir.resolve("target"), "x");
        Path link = Files.createSymbolicLink(dir.resolve("link"), target.getFileName());
        Metadata.owner(link, 4321, 8765);
        Metadata.owner(target, 1234, 5678);
        assertThat(Files.getAttribute(link, "unix:uid", LinkOption.NOFOLLOW_LINKS)).isEqualTo(4321);
        assertThat(Files.getAttribute(link, "unix:gid", LinkOption.NOFOLLOW_LINKS)).isEqualTo(8765);
        assertThat(Files.getAttribute(target, "unix:uid")).isEqualTo(1234);
        assertThat(Files.getAttribute(target, "unix:gid")).isEqualTo(5678);
    }

    @Test
    void aMissingFileIsAClearError() {
        Path gone = dir.resolve("gone");
        assertThatThrownBy(() -> Metadata.modified(gone, 0)).isInstanceOf(IOException.class).hasMessageContaining(gone.toString())
                .hasMessageContaining("errno 2");
        assertThatThrownBy(() -> Metadata.owner(gone, 0, 0)).isInstanceOf(IOException.class).hasMessageContaining("errno");
    }

    private static long nanos(FileTime t) {
        Instant i = t.toInstant();
        return i.getEpochSecond() * 1_000_000_000L + i.getNano();
    }
}
