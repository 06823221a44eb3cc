package org.intrustd.mail;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Optional;
import org.intrustd.testing.Gen;
import org.intrustd.testing.Property;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MailStoreTest {
    @TempDir
    Path tmp;

    @Test
    void anySearchTextIsAnsweredNeverAnError() throws Exception {
        try (MailStore store = MailStore.open(tmp)) {
            Path f = store.tempFile("alice");
            Files.writeString(f, "From: bob@example.org\r\nSubject: quarterly report\r\n\r\nthe turnover grew\r\n");
            store.add("alice", MailStore.Folder.INBOX, f, EnumSet.noneOf(MailStore.Flag.class), Optional.empty());
            // SQLite ends a string at NUL: a NUL in a word once left the FTS5 string unterminated.
            for (String q : new String[] {"turn\u0000over", "\"", "quarterly\"  OR report", "NEAR(a b)", "*", "a:b", "-x"}) {
                store.list("alice", Optional.empty(), Optional.of(q), 0, 10);
            }
            assertThat(store.list("alice", Optional.empty(), Optional.of("Turnov"), 0, 10)).hasSize(1);
            assertThat(store.list("alice", Optional.empty(), Optional.of("quarterly OR nothing"), 0, 10)).as("OR is a word").isEmpty();
            Property.forAll(2_000, Gen.strings(60), q -> {
                try {
                    store.list("alice", Optional.of(MailStore.Folder.INBOX), Optional.of(q), 0, 10);
                } catch (java.io.IOException e) {
                    throw new AssertionError(e);
                }
            });
        }
    }

    @Test
    void aMessageFiledJustBeforeAKillKeepsItsProvedSender() throws Exception {
        try (MailStore store = MailStore.open(tmp)) {
            store.ensureMailbox("bob");
        }
        // What add() leaves when killed after the rename: the file in new/, its proof, no index row.
        Files.writeString(tmp.resolve("mailboxes/bob/new/1700000000.M1R01.intrustd"),
                "From: alice@example.org\r\nSubject: proved\r\n\r\nhi\r\n");
        Files.writeString(tmp.resolve("mailboxes/bob/new/1700000000.M1R02.intrustd"),
                "From: mallory@example.org\r\nSubject: not proved\r\n\r\nhi\r\n");
        try (var db = java.sql.DriverManager.getConnection("jdbc:sqlite:" + tmp.resolve("index.db"));
                var s = db.createStatement()) {
            s.executeUpdate("INSERT INTO proved VALUES('bob/1700000000.M1R01.intrustd', 'alice@some.intrustd')");
        }
        try (MailStore store = MailStore.open(tmp)) {
            var all = store.list("bob", Optional.empty(), Optional.empty(), 0, 10);
            assertThat(all).extracting(MailStore.Summary::subject).containsExactlyInAnyOrder("proved", "not proved");
            for (MailStore.Summary m : all) {
                assertThat(m.verifiedSender()).as(m.subject())
                        .isEqualTo(m.subject().equals("proved") ? Optional.of("alice@some.intrustd") : Optional.empty());
            }
        }
    }

    @Test
    void searchPagesGoNewestFirstWithoutRepeats() throws Exception {
        try (MailStore store = MailStore.open(tmp)) {
            for (int i = 0; i < 25; i++) {
                Path f = store.tempFile("alice");
                Files.writeString(f, "From: bob@example.org\r\nSubject: note " + i + "\r\n\r\npaging test\r\n");
                store.add("alice", MailStore.Folder.INBOX, f, EnumSet.noneOf(MailStore.Flag.class), Optional.empty());
            }
            java.util.List<Long> seen = new java.util.ArrayList<>();
            long before = 0;
            while (true) {
                var page = store.list("alice", Optional.empty(), Optional.of("paging"), before, 10);
                if (page.isEmpty()) {
                    break;
                }
                page.forEach(s -> seen.add(s.id()));
                before = page.getLast().id();
            }
            assertThat(seen).hasSize(25).isSortedAccordingTo(java.util.Comparator.reverseOrder()).doesNotHaveDuplicates();
        }
    }
}
