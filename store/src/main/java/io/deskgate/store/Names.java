package io.deskgate.store;

import io.deskgate.common.DeskgateException;
import io.deskgate.common.Status;
import java.util.regex.Pattern;

/**
 * The rule for names an administrator gives (tenants, users, pools, agent ids, labels): 1 to
 * {@value #MAX_LENGTH} characters, letters, digits and {@code . _ @ -}, starting with a letter or digit. Such a
 * name needs no quoting in a URL path, a log line or a table, and two names that differ only in case are
 * different names. Pure; thread-safe.
 */
public final class Names {
    public static final int MAX_LENGTH = 64;
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._@-]{0," + (MAX_LENGTH - 1) + "}");

    private Names() {}

    public static boolean valid(String name) {
        return NAME.matcher(name).matches();
    }

    /**
     * Returns {@code name} when it follows the rule.
     *
     * @param what what the name names, for the message ("tenant name")
     * @throws DeskgateException {@link Status#BAD_REQUEST} saying what is wrong, without quoting a long or
     *                           unprintable name back
     */
    public static String require(String what, String name) {
        if (valid(name)) return name;
        if (name.isEmpty()) throw new DeskgateException(Status.BAD_REQUEST, what + " is empty");
        String shown = name.length() <= MAX_LENGTH && name.chars().noneMatch(Character::isISOControl) ? " '" + name + "'" : "";
        throw new DeskgateException(Status.BAD_REQUEST, what + shown + " is invalid: use 1 to " + MAX_LENGTH
                + " letters, digits, '.', '_', '@' or '-', starting with a letter or digit");
    }
}
