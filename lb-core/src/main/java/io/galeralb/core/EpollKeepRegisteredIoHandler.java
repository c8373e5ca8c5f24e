package io.galeralb.core;

import io.netty.channel.IoHandle;
import io.netty.channel.IoHandler;
import io.netty.channel.IoHandlerContext;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.IoOps;
import io.netty.channel.IoRegistration;
import io.netty.channel.epoll.EpollIoOps;
import io.netty.util.concurrent.ThreadAwareExecutor;

/**
 * Netty's epoll {@link IoHandler} with one defect worked around: a socket stays in epoll for as
 * long as its channel is registered.
 *
 * <p>Netty 4.2 (seen in 4.2.18 and 4.2.20) takes a socket out of epoll ({@code EPOLL_CTL_DEL})
 * when it wants no events at all, but keeps treating it as added: the next interest, always an
 * {@code EPOLL_CTL_MOD}, then fails with ENOENT and the channel is closed. A half-closed socket
 * gets there every time: once its input has ended it wants neither reads nor end-of-stream
 * events, and when its output later has to wait for room ({@code EPOLLOUT}) the session dies
 * with the rest of the stream unsent. A relay meets this whenever one side ends its stream while
 * the other still sends more than the socket buffers hold: an HTTP/1.0 client that half-closes
 * after its request and then reads a large answer slowly, a server that answers, ends, and then
 * reads a large upload. (And at the channel's close Netty removes the socket a second time,
 * which fails and builds an exception with a stack trace: one per session.)
 *
 * <p>Here "no events" is submitted as edge-triggered with no interest ({@code EPOLLET} alone):
 * the socket stays in epoll, reports nothing (a hang-up or error once at most, which is what
 * Netty wants to hear of), and every later interest or removal finds it there. While at it, an
 * interest that is already in epoll is not submitted twice.
 */
final class EpollKeepRegisteredIoHandler implements IoHandler {

    private final IoHandler epoll;

    private EpollKeepRegisteredIoHandler(IoHandler epoll) {
        this.epoll = epoll;
    }

    /** Wraps every handler {@code epollFactory} makes. */
    static IoHandlerFactory factory(IoHandlerFactory epollFactory) {
        return new IoHandlerFactory() {
            @Override
            public IoHandler newHandler(ThreadAwareExecutor ioExecutor) {
                return new EpollKeepRegisteredIoHandler(epollFactory.newHandler(ioExecutor));
            }

            @Override
            public boolean isChangingThreadSupported() {
                return epollFactory.isChangingThreadSupported();
            }
        };
    }

    @Override
    public IoRegistration register(IoHandle handle) throws Exception {
        return new KeptRegistration(epoll.register(handle));
    }

    @Override
    public void initialize() {
        epoll.initialize();
    }

    @Override
    public int run(IoHandlerContext context) {
        return epoll.run(context);
    }

    @Override
    public void prepareToDestroy() {
        epoll.prepareToDestroy();
    }

    @Override
    public void destroy() {
        epoll.destroy();
    }

    @Override
    public void wakeup() {
        epoll.wakeup();
    }

    @Override
    public boolean isCompatible(Class<? extends IoHandle> handleType) {
        return epoll.isCompatible(handleType);
    }

    /**
     * One socket's registration: "no events" kept in epoll as {@code EPOLLET} alone, and an
     * interest equal to the one already in epoll not submitted again (Netty re-submits its
     * current interest when a connect completes: one {@code EPOLL_CTL_MOD} per server
     * connection that changes nothing). Submits are serialized, as in Netty's own.
     */
    private static final class KeptRegistration implements IoRegistration {
        private static final long NOT_SUBMITTED = -1;

        private final IoRegistration epoll;
        private long submitted = NOT_SUBMITTED;

        KeptRegistration(IoRegistration epoll) {
            this.epoll = epoll;
        }

        @Override
        public synchronized long submit(IoOps ops) {
            EpollIoOps wanted = (EpollIoOps) ops;
            if (wanted.value() == EpollIoOps.NONE.value()) {
                wanted = EpollIoOps.EPOLLET;
            }
            if (wanted.value() != submitted) {
                submitted = epoll.submit(wanted);
            }
            return submitted;
        }

        @Override
        public <T> T attachment() {
            return epoll.attachment();
        }

        @Override
        public boolean isValid() {
            return epoll.isValid();
        }

        @Override
        public boolean cancel() {
            return epoll.cancel();
        }
    }
}
