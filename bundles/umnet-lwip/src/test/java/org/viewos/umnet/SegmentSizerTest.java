package org.viewos.umnet;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.util.Random;

import org.junit.Test;

/**
 * {@link SegmentSizer} against a model of lwip 1.5a's tcp_enqueue: a write joins the last unsent
 * segment when both fit in the MSS, and lwip sends its unsent segments whenever it likes (here:
 * at random). No segment may ever exceed {@link SegmentSizer#MAX}.
 */
public class SegmentSizerTest {
    @Test
    public void noSegmentOutgrowsTheLimitWhateverLwipSends() {
        Random r = new Random(42);
        for (int run = 0; run < 200; run++) {
            SegmentSizer sizer = new SegmentSizer();
            int unsentTail = 0; // lwip's last unsent segment, 0: none
            long written = 0;
            for (int step = 0; step < 2000; step++) {
                if (r.nextInt(3) == 0) {
                    unsentTail = 0; // lwip sent everything
                }
                int available = r.nextBoolean() ? 1 + r.nextInt(3000) : 1 + r.nextInt(60);
                int w = sizer.next(available);
                if (w == 0) {
                    sizer.assumeSent(); // the pump's fallback after its hold; lwip did send meanwhile
                    unsentTail = 0;
                    w = sizer.next(available);
                }
                assertTrue(w > 0 && w <= Math.min(available, SegmentSizer.MAX));
                if (unsentTail > 0 && unsentTail + w <= SegmentSizer.LWIP_MSS) {
                    unsentTail += w;
                } else {
                    unsentTail = w;
                }
                assertTrue("segment of " + unsentTail + " bytes", unsentTail <= SegmentSizer.MAX);
                sizer.wrote(w);
                written += w;
            }
            assertTrue(written > 0);
        }
    }

    @Test
    public void fullPiecesWhileDataIsPlenty() {
        SegmentSizer sizer = new SegmentSizer();
        for (int i = 0; i < 100; i++) {
            assertEquals(SegmentSizer.MAX, sizer.next(1 << 20));
            sizer.wrote(SegmentSizer.MAX);
        }
    }

    @Test
    public void aShortPieceAfterAFullOneWaits() {
        SegmentSizer sizer = new SegmentSizer();
        sizer.wrote(SegmentSizer.MAX);
        // 1440 + 30 would make a 1470-byte segment if lwip had not sent the first one yet
        assertEquals(0, sizer.next(30));
        assertEquals(100, sizer.next(100));
    }
}
