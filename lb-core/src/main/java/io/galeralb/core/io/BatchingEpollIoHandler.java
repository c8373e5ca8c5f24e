package io.galeralb.core.io;

import io.netty.channel.IoEvent;
import io.netty.channel.IoHandle;
import io.netty.channel.IoHandler;
import io.netty.channel.IoHandlerContext;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.IoOps;
import io.netty.channel.IoRegistration;
import io.netty.channel.epoll.EpollIoHandle;
import io.netty.channel.epoll.EpollIoOps;
import io.netty.channel.unix.FileDescriptor;
import io.netty.util.concurrent.ThreadAwareExecutor;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Netty's epoll {@link IoHandler} with its interest changes batched, and one defect worked
 * around. Both save {@code epoll_ctl} calls: 9 per relayed session with Netty's handler, 5 with
 * this one.
 *
 * <p><b>Batched.</b> Netty tells epoll of every change of a channel's interest at once, so a
 * session's short life costs a string of {@code epoll_ctl}: a server connection's end of connect
 * (no more {@code EPOLLOUT}) is followed by its first read ({@code EPOLLIN}) in the same loop
 * iteration, an end of input clears {@code EPOLLIN} and then {@code EPOLLRDHUP}, and at close
 * the socket is taken out of epoll right before the {@code close(2)} that takes it out anyway.
 * Here a change made on the event loop is only recorded; the loop hands epoll the last interest
 * of each changed socket once, just before it waits again, which is the first moment epoll's
 * view matters. A removal (cancel) waits for that moment too, by when a closed socket has left
 * epoll by itself; from the cancel on, events still reported for the socket are dropped, since
 * its channel asked for none.
 *
 * <p><b>Kept registered.</b> Netty 4.2 takes a socket out of epoll
 * ({@code EPOLL_CTL_DEL}) when it wants no events at all, but keeps treating it as added: the
 * next interest, always an {@code EPOLL_CTL_MOD}, then fails with ENOENT and the channel is
 * closed. A half-closed socket gets there every time: once its input has ended it wants neither
 * reads nor end-of-stream events, and when its output later has to wait for room
 * ({@code EPOLLOUT}) the session dies with the rest of the stream unsent. A relay meets this
 * whenever one side ends its stream while the other still sends more than the socket buffers
 * hold: an HTTP/1.0 client that half-closes after its request and then reads a large answer
 * slowly, a server that answers, ends, and then reads a large upload. Here "no events" is
 * edge-triggered with no interest ({@code EPOLLET} alone): the socket stays in epoll, reports
 * nothing (a hang-up or error once at most, which is what Netty wants to hear of), and every
 * later interest or removal finds it there.
 *
 * <p>A change asked for from another thread is handed to the event loop; Netty makes them there.
 */
final class BatchingEpollIoHandler extends ForwardingIoHandler {

    private static final Logger log = LoggerFactory.getLogger(BatchingEpollIoHandler.class);

    private final ThreadAwareExecutor loop;
    /** Sockets whose wanted interest may differ from epoll's; each listed once. Loop thread only. */
    private final List<Registration> changed = new ArrayList<>();
    /** Sockets cancelled since the loop last waited. Loop thread only. */
    private final List<Registration> cancelled = new ArrayList<>();

    private BatchingEpollIoHandler(IoHandler epoll, ThreadAwareExecutor loop) {
        super(epoll);
        this.loop = loop;
    }

    /** Wraps every handler {@code epollFactory} makes. */
    static IoHandlerFactory factory(IoHandlerFactory epollFactory) {
        return wrapping(epollFactory, BatchingEpollIoHandler::new);
    }

    @Override
    public IoRegistration register(IoHandle handle) throws Exception {
        // A socket closed in this iteration may have left its number to the one registering now:
        // Netty's handler must forget the old one first.
        applyCancels();
        Registration registration = new Registration((EpollIoHandle) handle);
        registration.inNetty = wrapped.register(registration);
        return registration;
    }

    @Override
    public int run(IoHandlerContext context) {
        applyCancels();
        applyChanges();
        return wrapped.run(context);
    }

    @Override
    public void prepareToDestroy() {
        applyCancels();
        wrapped.prepareToDestroy();
    }

    private void applyCancels() {
        if (cancelled.isEmpty()) {
            return;
        }
        // By index: what a cancel sets off may list more (and those are applied too).
        for (int i = 0; i < cancelled.size(); i++) {
            cancelled.get(i).inNetty.cancel();
        }
        cancelled.clear();
    }

    private void applyChanges() {
        if (changed.isEmpty()) {
            return;
        }
        // By index: a channel closed because epoll refused its interest may change its peer's.
        for (int i = 0; i < changed.size(); i++) {
            changed.get(i).apply();
        }
        changed.clear();
    }

    private boolean onLoop() {
        return loop.isExecutorThread(Thread.currentThread());
    }

    /**
     * One socket: what its channel wants, what epoll has, and the channel's handle, through which
     * events reach it while it is not cancelled.
     */
    private final class Registration implements IoRegistration, EpollIoHandle {
        private final EpollIoHandle channel;
        private IoRegistration inNetty;
        private EpollIoOps wanted = EpollIoOps.NONE;
        private EpollIoOps inEpoll = EpollIoOps.NONE;
        private boolean listed;
        private volatile boolean removed;

        Registration(EpollIoHandle channel) {
            this.channel = channel;
        }

        @Override
        public long submit(IoOps ops) {
            EpollIoOps next = (EpollIoOps) ops;
            if (next.value() == EpollIoOps.NONE.value()) {
                next = EpollIoOps.EPOLLET;
            }
            if (!onLoop()) {
                loop.execute(() -> submit(ops));
                return next.value();
            }
            if (removed) {
                return -1;
            }
            wanted = next;
            if (!listed && wanted.value() != inEpoll.value()) {
                listed = true;
                changed.add(this);
            }
            return next.value();
        }

        /** Hands epoll what the channel wants now, if that is not what epoll has. */
        void apply() {
            listed = false;
            if (removed || wanted.value() == inEpoll.value()) {
                return;
            }
            try {
                inNetty.submit(wanted);
                inEpoll = wanted;
            } catch (UncheckedIOException e) {
                // The socket or epoll is broken: what Netty does when it fails to change an interest.
                log.debug("epoll refused interest {} for fd {}, closing its channel: {}", wanted, channel.fd(), e.getCause().toString());
                close();
            }
        }

        @Override
        public synchronized boolean cancel() {
            if (removed) {
                return false;
            }
            removed = true;
            if (onLoop()) {
                cancelled.add(this);
                return true;
            }
            return inNetty.cancel();
        }

        @Override
        public boolean isValid() {
            return !removed && inNetty.isValid();
        }

        @Override
        public <T> T attachment() {
            return inNetty.attachment();
        }

        @Override
        public void handle(IoRegistration registration, IoEvent event) {
            if (!removed) {
                channel.handle(this, event);
            }
        }

        @Override
        public FileDescriptor fd() {
            return channel.fd();
        }

        @Override
        public void registered() {
            channel.registered();
        }

        @Override
        public void unregistered() {
            channel.unregistered();
        }

        @Override
        public void close() {
            try {
                channel.close();
            } catch (Exception e) {
                log.debug("closing {} failed: {}", channel, e.toString());
            }
        }
    }
}
