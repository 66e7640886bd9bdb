package org.viewos.umnet;

import java.util.BitSet;

/**
 * Sizes the pieces of a TCP stream handed to lwip so that no TCP segment it builds needs IP
 * fragmentation, because lwip 1.5a's fragmentation crashes.
 *
 * <p>Facts of liblwipv6 1.5a: its MSS is a constant 1488 (the smaller of that and the peer's MSS
 * option, and another lwip advertises 1488 too), while its VDE interface carries at most 1514-byte
 * frames (MTU 1500). A full segment (1488 + 20 TCP + 40 IPv6 or 20 IPv4 header) is therefore
 * fragmented, and lwip's fragmentation is broken: {@code ip6_frag} moves the payload pointer of the
 * segment's own pbuf, so a retransmission of that segment walks off its pbuf chain (SIGSEGV in
 * copy_from_pbuf), and the receiver's IPv6 reassembly can hand ip_input a NULL packet (SIGSEGV in
 * nat_pbuf_put). Keeping every segment at most {@link #MAX} bytes (1500 - 40 - 20) avoids both.
 *
 * <p>lwip cuts each write into segments of at most the MSS and then appends the first of them to the
 * last segment still waiting to be sent when both fit in the MSS ({@code tcp_enqueue}). So a write
 * of at most {@code MAX} bytes makes a segment longer than {@code MAX} exactly when an unsent tail
 * {@code t} exists with {@code MAX < t + w <= MSS}. Whether the tail has gone out cannot be seen, so
 * this class keeps every length the unsent tail may have (0 included) and picks the largest write
 * that no possible tail can grow past {@code MAX}.
 */
final class SegmentSizer {
    static final int MAX = 1440;
    static final int LWIP_MSS = 1488;

    // possible lengths of lwip's last unsent segment; bit 0: none unsent
    private final BitSet tails = new BitSet(MAX + 1);

    SegmentSizer() {
        tails.set(0);
    }

    /**
     * The largest write of at most {@code available} bytes that keeps every segment within
     * {@link #MAX}; 0 when only a write that could grow the tail past it is possible (the caller
     * waits for more data or for lwip to send the tail).
     */
    int next(int available) {
        for (int w = Math.min(available, MAX); w > 0; w--) {
            if (fits(w)) {
                return w;
            }
        }
        return 0;
    }

    private boolean fits(int w) {
        for (int t = tails.nextSetBit(1); t >= 0; t = tails.nextSetBit(t + 1)) {
            if (t + w > MAX && t + w <= LWIP_MSS) {
                return false;
            }
        }
        return true;
    }

    /** Records a write of {@code w} bytes that lwip accepted. */
    void wrote(int w) {
        BitSet after = new BitSet(MAX + 1);
        after.set(w); // the tail had gone out, or could not take this write
        for (int t = tails.nextSetBit(1); t >= 0; t = tails.nextSetBit(t + 1)) {
            if (t + w <= LWIP_MSS) {
                after.set(t + w); // appended to the tail
            }
        }
        tails.clear();
        tails.or(after);
        tails.set(0);
    }

    /**
     * Assumes lwip has sent its unsent tail (nothing can be appended to it any more). Only a guess
     * (lwip does not tell): the pump makes it after a write has been held back for a while, in which
     * the peer's acknowledgements normally let lwip send everything.
     */
    void assumeSent() {
        tails.clear();
        tails.set(0);
    }
}
