package org.intrustd.appliance.offsite;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.intrustd.core.id.ApplianceId;

/**
 * What an owner keeps, away from the appliance, to rebuild it from its off-site backups
 * (docs/spec/offsite.md): which appliance made them, which friend keeps them, and the
 * repository password. The password also yields the <em>claim</em> with which a new appliance
 * takes the lost one's space over at the friend's backups app; the friend is only ever given
 * the claim's SHA-256 beforehand, and the claim itself cannot open the repository.
 */
public record RecoveryKit(String appliance, Optional<String> friend, String key) {
    static final String CLAIM_LABEL = "intrustd offsite recovery claim v1";
    private static final Pattern KEY = Pattern.compile("[A-Za-z0-9_-]{16,256}");
    static final int MAX_TEXT = 16 * 1024;

    public RecoveryKit {
        appliance = id(appliance, "appliance");
        friend = friend.map(f -> id(f, "friend"));
        if (!KEY.matcher(key).matches()) {
            throw new IllegalArgumentException("the kit's key is 16 to 256 letters, digits, '-' or '_'");
        }
    }

    private static String id(String text, String field) {
        return ApplianceId.parse(text).map(ApplianceId::toString)
                .orElseThrow(() -> new IllegalArgumentException("the kit's " + field + " is not an appliance ID (check it for typos)"));
    }

    /** The kit as the owner keeps it: a few lines of text, with how to use it. */
    public String text() {
        return "# Intrustd off-site recovery kit. Keep it safe, away from the appliance: whoever has it\n"
                + "# can read the backups. To rebuild the appliance on a new box, pair it with the friend\n"
                + "# and run: intrustd backup offsite recover THIS-FILE\n"
                + "appliance: " + appliance + "\n"
                + friend.map(f -> "friend: " + f + "\n").orElse("")
                + "key: " + key + "\n";
    }

    /**
     * Reads a kit: {@code name: value} lines ({@code appliance}, {@code friend}, {@code key};
     * others are skipped, for kits of later versions), blank lines and {@code #} comments.
     *
     * @throws IllegalArgumentException with what is wrong, for anything else
     */
    public static RecoveryKit parse(String text) {
        if (text.length() > MAX_TEXT) {
            throw new IllegalArgumentException("a recovery kit is a few lines, not " + text.length() + " characters");
        }
        String appliance = null;
        String friend = null;
        String key = null;
        for (String raw : text.split("\r?\n", -1)) {
            String line = raw.strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            int colon = line.indexOf(':');
            if (colon < 0) {
                throw new IllegalArgumentException("a line of the kit is 'name: value', not '" + abbreviate(line) + "'");
            }
            String value = line.substring(colon + 1).strip();
            switch (line.substring(0, colon).strip().toLowerCase(Locale.ROOT)) {
                case "appliance" -> appliance = once(appliance, value, "appliance");
                case "friend" -> friend = once(friend, value, "friend");
                case "key" -> key = once(key, value, "key");
                default -> {
                    // a field of a later version
                }
            }
        }
        if (appliance == null || key == null) {
            throw new IllegalArgumentException("the kit has no " + (appliance == null ? "appliance" : "key")
                    + " line: is it what 'intrustd backup offsite key' printed?");
        }
        return new RecoveryKit(appliance, Optional.ofNullable(friend), key);
    }

    private static String once(String before, String value, String field) {
        if (before != null) {
            throw new IllegalArgumentException("the kit names its " + field + " twice");
        }
        return value;
    }

    private static String abbreviate(String line) {
        return line.length() <= 40 ? line : line.substring(0, 40) + "…";
    }

    /** The claim: HMAC-SHA256 keyed by the password's UTF-8 bytes, of {@value #CLAIM_LABEL}. */
    public byte[] claim() {
        return claim(key);
    }

    static byte[] claim(String key) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
            return mac.doFinal(CLAIM_LABEL.getBytes(StandardCharsets.UTF_8));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HMAC-SHA256 is part of every JDK", e);
        }
    }

    /** What the friend keeps beforehand: the claim's SHA-256. */
    static byte[] verifier(byte[] claim) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(claim);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }

    static String hex(byte[] bytes) {
        return HexFormat.of().formatHex(bytes);
    }
}
