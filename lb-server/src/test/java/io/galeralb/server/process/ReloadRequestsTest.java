package io.galeralb.server.process;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class ReloadRequestsTest {

    private static long reloadThreads() {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().equals("sighup-reload")).count();
    }

    @Test
    void aHundredSignalsDuringAReloadMakeOneThreadAndOneMoreReload() throws Exception {
        long before = reloadThreads();
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch firstStarted = new CountDownLatch(1);
        AtomicInteger reloads = new AtomicInteger();
        try (ReloadRequests requests = new ReloadRequests(() -> {
            reloads.incrementAndGet();
            firstStarted.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        })) {
            assertThat(requests.request()).isTrue();
            assertThat(firstStarted.await(30, TimeUnit.SECONDS)).isTrue();
            int accepted = 0;
            for (int i = 0; i < 100; i++) {
                accepted += requests.request() ? 1 : 0;
            }
            assertThat(accepted).as("one waits, the rest fold into it").isEqualTo(1);
            assertThat(reloadThreads() - before).isEqualTo(1);
            release.countDown();
            await().until(() -> reloads.get() == 2);
            assertThat(requests.request()).as("nothing waiting any more").isTrue();
            await().until(() -> reloads.get() == 3);
        }
    }

    @Test
    void aReloadThatThrowsDoesNotEndTheThread() {
        AtomicInteger reloads = new AtomicInteger();
        try (ReloadRequests requests = new ReloadRequests(() -> {
            reloads.incrementAndGet();
            throw new IllegalStateException("boom");
        })) {
            requests.request();
            await().until(() -> reloads.get() == 1);
            await().until(requests::request);
            await().until(() -> reloads.get() == 2);
        }
    }
}
