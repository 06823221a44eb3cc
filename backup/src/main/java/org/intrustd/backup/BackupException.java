package org.intrustd.backup;

/** Why a repository operation cannot go on, in words for the person running it. */
public class BackupException extends RuntimeException {
    public BackupException(String message) {
        super(message);
    }

    public BackupException(String message, Throwable cause) {
        super(message, cause);
    }

    /** No key of the repository opens with the password given. */
    public static final class WrongPassword extends BackupException {
        public WrongPassword() {
            super("wrong password: no key of this repository opens with it");
        }
    }

    /** Stored bytes that fail their authentication or do not parse: damaged, or not ours. */
    public static final class Corrupt extends BackupException {
        public Corrupt(String message) {
            super(message);
        }
    }
}
