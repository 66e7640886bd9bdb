package org.viewos.umnet;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Predicate;
import java.util.regex.Pattern;

import org.viewos.core.api.Errno;

/**
 * Address literals of the mount options, in lwip's {@code struct ip_addr} form: 16 bytes in network
 * order, IPv4 as {@code ::ffff:a.b.c.d} (and its masks as 96 one bits before the IPv4 mask).
 */
final class Inet {
    private static final Pattern V4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");
    private static final Pattern V6 = Pattern.compile("[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*");

    private Inet() {
    }

    /** An address with a prefix length and, optionally, the interface it goes to ({@code %vd1}). */
    record Cidr(byte[] addr, int prefix, boolean v4, String ifname) {
        byte[] mask() {
            return Inet.mask(v4, prefix);
        }
    }

    static boolean isV4(String s) {
        return V4.matcher(s).matches();
    }

    /** The 16-byte lwip form of an IPv4 or IPv6 literal. @throws Errno EINVAL if it is none */
    static byte[] parse(String s) throws Errno {
        boolean v4 = isV4(s);
        if (!v4 && !V6.matcher(s).matches()) {
            throw new Errno(Errno.EINVAL, "not an IPv4 or IPv6 address: '" + s + "'");
        }
        byte[] raw;
        try {
            raw = InetAddress.getByName(s).getAddress(); // a literal: no name lookup
        } catch (UnknownHostException | RuntimeException e) {
            throw new Errno(Errno.EINVAL, "bad address '" + s + "'");
        }
        if (raw.length == 16) {
            return raw;
        }
        byte[] a = new byte[16];
        a[10] = (byte) 0xff;
        a[11] = (byte) 0xff;
        System.arraycopy(raw, 0, a, 12, 4);
        return a;
    }

    static boolean mapped(byte[] a) {
        for (int i = 0; i < 10; i++) {
            if (a[i] != 0) {
                return false;
            }
        }
        return a[10] == (byte) 0xff && a[11] == (byte) 0xff;
    }

    /** The lwip mask of a prefix: for IPv4, 96 one bits then the IPv4 mask. */
    static byte[] mask(boolean v4, int prefix) {
        int bits = v4 ? 96 + prefix : prefix;
        byte[] m = new byte[16];
        for (int i = 0; i < bits; i++) {
            m[i / 8] |= (byte) (0x80 >>> (i % 8));
        }
        return m;
    }

    /** {@code ADDR/PREFIX[%IFNAME]}. */
    static Cidr cidr(String s) throws Errno {
        String ifname = null;
        int pct = s.indexOf('%');
        if (pct >= 0) {
            ifname = s.substring(pct + 1);
            s = s.substring(0, pct);
        }
        int slash = s.indexOf('/');
        if (slash < 0) {
            throw new Errno(Errno.EINVAL, "address without prefix length: '" + s + "' (write e.g. 10.0.0.2/24)");
        }
        String a = s.substring(0, slash);
        boolean v4 = isV4(a);
        int prefix;
        try {
            prefix = Integer.parseInt(s.substring(slash + 1));
        } catch (NumberFormatException e) {
            throw new Errno(Errno.EINVAL, "bad prefix length in '" + s + "'");
        }
        if (prefix < 0 || prefix > (v4 ? 32 : 128)) {
            throw new Errno(Errno.EINVAL, "bad prefix length in '" + s + "'");
        }
        return new Cidr(parse(a), prefix, v4, ifname);
    }

    /**
     * Splits the value of a repeated option, which the core joins with ':' (the separator IPv6
     * literals contain too), into the fewest valid items; '+' and blanks separate items as well.
     *
     * @throws Errno EINVAL when no split makes every item valid
     */
    static List<String> split(String joined, Predicate<String> valid) throws Errno {
        List<String> out = new ArrayList<>();
        for (String part : joined.split("[+\\s]+")) {
            if (!part.isEmpty()) {
                out.addAll(splitColons(part, valid));
            }
        }
        return out;
    }

    private static List<String> splitColons(String s, Predicate<String> valid) throws Errno {
        List<Integer> cuts = new ArrayList<>();
        cuts.add(-1);
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) == ':') {
                cuts.add(i);
            }
        }
        cuts.add(s.length());
        int n = cuts.size();
        int[] best = new int[n];
        int[] from = new int[n];
        Arrays.fill(best, Integer.MAX_VALUE);
        best[0] = 0;
        for (int j = 1; j < n; j++) {
            for (int i = 0; i < j; i++) {
                if (best[i] != Integer.MAX_VALUE && best[i] + 1 < best[j]
                        && valid.test(s.substring(cuts.get(i) + 1, cuts.get(j)))) {
                    best[j] = best[i] + 1;
                    from[j] = i;
                }
            }
        }
        if (best[n - 1] == Integer.MAX_VALUE) {
            throw new Errno(Errno.EINVAL, "cannot read '" + s + "' as addresses");
        }
        List<String> items = new ArrayList<>();
        for (int j = n - 1; j > 0; j = from[j]) {
            items.add(0, s.substring(cuts.get(from[j]) + 1, cuts.get(j)));
        }
        return items;
    }

    static boolean validAddress(String s) {
        try {
            parse(s);
            return true;
        } catch (Errno e) {
            return false;
        }
    }

    static boolean validCidr(String s) {
        try {
            cidr(s);
            return true;
        } catch (Errno e) {
            return false;
        }
    }
}
