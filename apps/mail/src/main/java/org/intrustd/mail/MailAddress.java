package org.intrustd.mail;

import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.intrustd.core.id.ApplianceId;

/**
 * An Intrustd mail address, {@code <persona>[+<tag>]@<appliance ID>.intrustd} (docs/spec/mail.md,
 * "Addresses"). The domain is the appliance's ID in its dashed display form, 63 characters: one
 * DNS label, so ordinary mail clients and libraries take it. The canonical form is lower-case,
 * the way mail software writes domains.
 */
public record MailAddress(String persona, Optional<String> tag, ApplianceId appliance) {
    public static final String TOP_LEVEL = "intrustd";
    /** A persona's login name (PersonaStore.NAME), compared in lower case. */
    private static final Pattern PERSONA = Pattern.compile("[a-z0-9][a-z0-9._-]{0,63}");
    private static final Pattern TAG = Pattern.compile("[a-z0-9._-]{1,63}");
    /** The display form only: eight dashed groups of seven base32 characters. */
    private static final Pattern ID_LABEL = Pattern.compile("[a-z2-7]{7}(?:-[a-z2-7]{7}){7}");
    private static final Pattern ADDRESS = Pattern.compile("([^@+]+)(?:\\+([^@]*))?@([^@]+)");
    /** RFC 5321 §4.5.3.1.1. */
    static final int MAX_LOCAL = 64;

    public MailAddress {
        if (!PERSONA.matcher(persona).matches()) {
            throw new IllegalArgumentException("not a persona name: " + persona);
        }
        if (tag.isPresent() && !TAG.matcher(tag.get()).matches()) {
            throw new IllegalArgumentException("not an address tag: " + tag.get());
        }
    }

    /** A persona's own address on {@code appliance}. */
    public static MailAddress of(String persona, ApplianceId appliance) {
        return new MailAddress(persona, Optional.empty(), appliance);
    }

    /**
     * Parses an address in any case; empty when it is not an Intrustd address (an ordinary one,
     * or garbage). Only the bare {@code local@domain} form: display names and angle brackets are
     * the caller's to strip.
     */
    public static Optional<MailAddress> parse(String text) {
        if (text == null || text.length() > 200) {
            return Optional.empty();
        }
        Matcher m = ADDRESS.matcher(text.toLowerCase(Locale.ROOT));
        if (!m.matches()) {
            return Optional.empty();
        }
        String local = m.group(1);
        String tag = m.group(2);
        String domain = m.group(3);
        int localLength = local.length() + (tag == null ? 0 : tag.length() + 1);
        if (localLength > MAX_LOCAL || !PERSONA.matcher(local).matches() || (tag != null && !TAG.matcher(tag).matches())) {
            return Optional.empty();
        }
        Optional<ApplianceId> id = appliance(domain);
        return id.map(a -> new MailAddress(local, Optional.ofNullable(tag), a));
    }

    /** The appliance a mail domain names, when it is an Intrustd domain ({@code <ID>.intrustd}, any case). */
    public static Optional<ApplianceId> appliance(String domain) {
        String d = domain.toLowerCase(Locale.ROOT);
        if (d.endsWith(".")) {
            d = d.substring(0, d.length() - 1); // a fully qualified name
        }
        if (!d.endsWith("." + TOP_LEVEL)) {
            return Optional.empty();
        }
        String label = d.substring(0, d.length() - TOP_LEVEL.length() - 1);
        if (!ID_LABEL.matcher(label).matches()) {
            return Optional.empty();
        }
        return ApplianceId.parse(label);
    }

    /** Whether {@code address} is at some {@code .intrustd} domain, well formed or not: such mail never goes to a provider. */
    public static boolean looksIntrustd(String address) {
        int at = address.lastIndexOf('@');
        String domain = address.substring(at + 1).toLowerCase(Locale.ROOT);
        return domain.endsWith("." + TOP_LEVEL) || domain.endsWith("." + TOP_LEVEL + ".");
    }

    /** The mail domain of an appliance: its ID in lower case, then {@code .intrustd}. */
    public static String domain(ApplianceId appliance) {
        return appliance.toString().toLowerCase(Locale.ROOT) + "." + TOP_LEVEL;
    }

    /** The mailbox it goes to: the address without its tag. */
    public MailAddress mailbox() {
        return tag.isEmpty() ? this : of(persona, appliance);
    }

    @Override
    public String toString() {
        return persona + tag.map(t -> "+" + t).orElse("") + "@" + domain(appliance);
    }
}
