package org.intrustd.hello;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HelloAppLifecycleTest {
    @TempDir
    Path dir;

    @Test
    void replacesAStaleSocketAndRemovesItsOwnOnClose() throws Exception {
        Path socket = dir.resolve("hello.sock");
        // Closing a bound Unix socket leaves its file behind, like a killed process does.
        try (ServerSocketChannel stale = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            stale.bind(UnixDomainSocketAddress.of(socket));
        }
        assertThat(socket).exists();

        HelloApp.Running app = HelloApp.start(socket);
        assertThat(RawHttp.get(socket, "/health").status()).isEqualTo(200);
        app.close();

        assertThat(socket).doesNotExist();
    }

    @Test
    void leavesAnythingButASocketAlone() throws IOException {
        Path file = Files.writeString(dir.resolve("hello.sock"), "not a socket");

        assertThatThrownBy(() -> HelloApp.start(file)).isInstanceOf(FileAlreadyExistsException.class);

        assertThat(file).hasContent("not a socket");
    }
}
