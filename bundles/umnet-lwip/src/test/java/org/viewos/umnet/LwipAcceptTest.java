package org.viewos.umnet;

import static org.junit.Assert.assertEquals;
import static org.viewos.umnet.Harness.AF_INET;
import static org.viewos.umnet.Harness.AF_INET6;
import static org.viewos.umnet.Harness.SOCK_STREAM;
import static org.viewos.umnet.Harness.in4;
import static org.viewos.umnet.Harness.in6;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.junit.Test;
import org.viewos.core.api.Errno;
import org.viewos.umnet.Harness.Sock;

/**
 * 20 connections at once to a listener with python's http.server backlog (5), served the way it
 * serves them: one thread accepts, slowly (as under the tracer), and hands each connection to a
 * thread that reads the request, answers, shuts down its sending side and closes. Connections
 * beyond the backlog must wait, not be refused or lost.
 */
public class LwipAcceptTest extends StackPair {
    private static final int CLIENTS = 20, BACKLOG = 5, ACCEPT_DELAY_MS = 100;

    @Test(timeout = 300_000)
    public void smallBacklogManyClientsIPv6() throws Exception {
        serve(AF_INET6, in6(6000, new byte[16]), in6(6000, FD00_1));
    }

    @Test(timeout = 300_000)
    public void smallBacklogManyClientsIPv4() throws Exception {
        serve(AF_INET, in4(6001, 0, 0, 0, 0), in4(6001, 10, 0, 0, 1));
    }

    private void serve(int family, byte[] bindTo, byte[] dialTo) throws Exception {
        byte[] reply = new byte[16000];
        Arrays.fill(reply, (byte) 'x');
        Sock l = Sock.of(a.socket(family, SOCK_STREAM, 0));
        l.file().bind(bindTo);
        l.file().listen(BACKLOG);
        ExecutorService handlers = Executors.newCachedThreadPool();
        Thread acceptor = new Thread(() -> {
            try {
                for (int i = 0; i < CLIENTS; i++) {
                    Thread.sleep(ACCEPT_DELAY_MS);
                    Sock s = l.accept(new byte[1][]);
                    handlers.submit(() -> {
                        s.readFully(4);
                        s.sendAll(reply);
                        s.file().shutdown(1);
                        s.file().close();
                        return null;
                    });
                }
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        });
        acceptor.start();
        List<Callable<String>> clients = new ArrayList<>();
        for (int i = 0; i < CLIENTS; i++) {
            clients.add(() -> {
                try {
                    Sock c = dial(b, dialTo);
                    c.sendAll("GET ".getBytes(StandardCharsets.US_ASCII));
                    byte[] back = c.readFully(reply.length + 1);
                    c.file().close();
                    return Arrays.equals(reply, back) ? "ok" : "a reply of " + back.length + " bytes";
                } catch (Errno e) {
                    return "errno " + e.code();
                }
            });
        }
        Map<String, Integer> outcomes = new TreeMap<>();
        ExecutorService cx = Executors.newFixedThreadPool(CLIENTS);
        try {
            for (Future<String> f : cx.invokeAll(clients)) {
                outcomes.merge(f.get(), 1, Integer::sum);
            }
        } finally {
            cx.shutdownNow();
            acceptor.join();
            handlers.shutdown();
        }
        l.file().close();
        assertEquals(Map.of("ok", CLIENTS), outcomes);
    }
}
