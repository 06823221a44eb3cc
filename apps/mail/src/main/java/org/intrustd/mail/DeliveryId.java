package org.intrustd.mail;

import java.security.SecureRandom;
import java.util.Base64;
import java.util.regex.Pattern;

/** A delivery's id: 128 random bits, base64url. A retry carries the same one, so the recipient keeps a message once. */
final class DeliveryId {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Pattern FORM = Pattern.compile("[A-Za-z0-9_-]{22}");

    private DeliveryId() {
    }

    static String next() {
        byte[] b = new byte[16];
        RANDOM.nextBytes(b);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }

    static boolean valid(String id) {
        return id != null && FORM.matcher(id).matches();
    }
}
