package io.galeralb.server.process;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reloads asked for by signals, run one at a time on one thread: a request made while a reload
 * runs is kept (the file may have changed since it was read), further ones are folded into it.
 * However many SIGHUPs arrive, there is one thread and at most one reload waiting.
 */
public final class ReloadRequests implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ReloadRequests.class);

    private final BlockingQueue<Boolean> pending = new ArrayBlockingQueue<>(1);
    private final Thread worker;

    public ReloadRequests(Runnable reload) {
        worker = new Thread(() -> {
            while (true) {
                try {
                    pending.take();
                } catch (InterruptedException e) {
                    return;
                }
                try {
                    reload.run();
                } catch (RuntimeException e) {
                    log.error("reload failed", e);
                }
            }
        }, "sighup-reload");
        worker.setDaemon(true);
        worker.start();
    }

    /** Asks for a reload; returns false when one was already waiting (this request is folded into it). */
    public boolean request() {
        return pending.offer(Boolean.TRUE);
    }

    /** Ends the thread once a reload in progress is done; requests after this are not run. */
    @Override
    public void close() {
        worker.interrupt();
    }
}
