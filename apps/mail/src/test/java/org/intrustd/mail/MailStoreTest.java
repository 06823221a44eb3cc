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

    /** What an IMAP server on the same Maildir does to the files; the index follows, and proofs survive. */
    @Test
    void theIndexFollowsAnotherProgramsChangesToTheFiles() throws Exception {
        try (MailStore store = MailStore.open(tmp)) {
            Path f = store.tempFile("bob");
            Files.writeString(f, "From: alice@a.intrustd\r\nMessage-ID: <m1@a>\r\nSubject: proved\r\n\r\nhi\r\n");
            MailStore.Summary proved = store.add("bob", MailStore.Folder.INBOX, f, EnumSet.noneOf(MailStore.Flag.class),
                    Optional.of("alice@a.intrustd"));
            f = store.tempFile("bob");
            Files.writeString(f, "From: carol@example.org\r\nSubject: plain\r\n\r\nhi\r\n");
            MailStore.Summary plain = store.add("bob", MailStore.Folder.INBOX, f, EnumSet.of(MailStore.Flag.SEEN), Optional.empty());
            store.refreshIfChanged("bob");
            Path mailbox = tmp.resolve("mailboxes/bob");

            // Seen and flagged: new/ to cur/ with flags, as a reader does.
            Path was = store.get("bob", proved.id()).orElseThrow().getValue();
            Path now = mailbox.resolve("cur").resolve(was.getFileName() + ":2,FS");
            Files.move(was, now);
            store.refreshIfChanged("bob");
            MailStore.Summary s = store.get("bob", proved.id()).orElseThrow().getKey();
            assertThat(s.flags()).containsExactlyInAnyOrder(MailStore.Flag.FLAGGED, MailStore.Flag.SEEN);
            assertThat(s.verifiedSender()).contains("alice@a.intrustd");

            // Moved by copy and expunge into Archive, under a name of the server's own.
            Path copy = mailbox.resolve(".Archive/cur/1700000099.M5P6.imapserver,S=70:2,FS");
            Files.copy(now, copy);
            Files.delete(now);
            store.refreshIfChanged("bob");
            assertThat(store.get("bob", proved.id())).isEmpty();
            var archived = store.list("bob", Optional.of(MailStore.Folder.ARCHIVE), Optional.empty(), 0, 10);
            assertThat(archived).extracting(MailStore.Summary::subject).containsExactly("proved");
            assertThat(archived.getFirst().verifiedSender()).as("the copy inherits the proof").contains("alice@a.intrustd");

            // Appended by the server (a desktop client's Sent copy), and one expunged.
            Files.writeString(mailbox.resolve(".Sent/cur/1700000100.M7P8.imapserver:2,S"),
                    "From: bob@b.intrustd\r\nSubject: from the desktop\r\n\r\nhi\r\n");
            Files.delete(store.get("bob", plain.id()).orElseThrow().getValue());
            store.refreshIfChanged("bob");
            assertThat(store.list("bob", Optional.of(MailStore.Folder.SENT), Optional.empty(), 0, 10))
                    .extracting(MailStore.Summary::subject).containsExactly("from the desktop");
            assertThat(store.get("bob", plain.id())).isEmpty();
            assertThat(store.list("bob", Optional.of(MailStore.Folder.INBOX), Optional.empty(), 0, 10)).isEmpty();

            // The server's own letters (a keyword, \Deleted) survive a flag change made in the webmail.
            MailStore.Summary sent = store.list("bob", Optional.of(MailStore.Folder.SENT), Optional.empty(), 0, 10).getFirst();
            Path withKeyword = mailbox.resolve(".Sent/cur/1700000100.M7P8.imapserver:2,STa");
            Files.move(store.get("bob", sent.id()).orElseThrow().getValue(), withKeyword);
            store.refreshIfChanged("bob");
            store.update("bob", sent.id(), MailStore.Folder.SENT, EnumSet.of(MailStore.Flag.SEEN, MailStore.Flag.FLAGGED));
            assertThat(store.get("bob", sent.id()).orElseThrow().getValue().getFileName().toString())
                    .isEqualTo("1700000100.M7P8.imapserver:2,FSTa");
        }
        // A copy that claims another message's Message-ID but differs inherits nothing.
        try (MailStore store = MailStore.open(tmp)) {
            var archived = store.list("bob", Optional.of(MailStore.Folder.ARCHIVE), Optional.empty(), 0, 10);
            assertThat(archived.getFirst().verifiedSender()).as("kept across a restart").contains("alice@a.intrustd");
            Path mailbox = tmp.resolve("mailboxes/bob");
            Path file = store.get("bob", archived.getFirst().id()).orElseThrow().getValue();
            Files.writeString(mailbox.resolve(".Trash/cur/1700000200.M9.imapserver:2,S"),
                    "From: alice@a.intrustd\r\nMessage-ID: <m1@a>\r\nSubject: forged\r\n\r\nlonger body here\r\n");
            Files.delete(file);
            store.refreshIfChanged("bob");
            var trash = store.list("bob", Optional.of(MailStore.Folder.TRASH), Optional.empty(), 0, 10);
            assertThat(trash).extracting(MailStore.Summary::subject).containsExactly("forged");
            assertThat(trash.getFirst().verifiedSender()).isEmpty();
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
