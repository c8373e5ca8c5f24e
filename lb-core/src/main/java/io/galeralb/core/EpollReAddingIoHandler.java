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
 * Netty's epoll {@link IoHandler} with one defect worked around: a socket that Netty took out of
 * epoll is put back in when it wants events again.
 *
 * <p>Netty 4.2 (seen in 4.2.18 and 4.2.20) removes a socket from epoll ({@code EPOLL_CTL_DEL})
 * when it wants no events at all, but keeps treating it as added: the next interest, always an
 * {@code EPOLL_CTL_MOD}, then fails with ENOENT and the channel is closed. A half-closed socket
 * gets there every time: once its input has ended it wants neither reads nor end-of-stream
 * events, and when its output later has to wait for room ({@code EPOLLOUT}) the session dies
 * with the rest of the stream unsent. A relay meets this whenever one side ends its stream while
 * the other still sends more than the socket buffers hold: an HTTP/1.0 client that half-closes
 * after its request and then reads a large answer slowly, a server that answers, ends, and then
 * reads a large upload.
 *
 * <p>Here each registration remembers that Netty removed the socket, and the next interest
 * registers it anew ({@code EPOLL_CTL_ADD}). Everything else is Netty's handler, untouched.
 */
final class EpollReAddingIoHandler implements IoHandler {

    private final IoHandler epoll;

    private EpollReAddingIoHandler(IoHandler epoll) {
        this.epoll = epoll;
    }

    /** Wraps every handler {@code epollFactory} makes. */
    static IoHandlerFactory factory(IoHandlerFactory epollFactory) {
        return new IoHandlerFactory() {
            @Override
            public IoHandler newHandler(ThreadAwareExecutor ioExecutor) {
                return new EpollReAddingIoHandler(epollFactory.newHandler(ioExecutor));
            }

            @Override
            public boolean isChangingThreadSupported() {
                return epollFactory.isChangingThreadSupported();
            }
        };
    }

    @Override
    public IoRegistration register(IoHandle handle) throws Exception {
        return new ReAdding(handle, epoll.register(handle));
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

    /** One socket's registration; only ever used on its event loop, like Netty's own. */
    private final class ReAdding implements IoRegistration {
        private final IoHandle handle;
        private IoRegistration current;
        /** Netty has taken the socket out of epoll (it wanted no events) but would MOD it next. */
        private boolean removed;

        ReAdding(IoHandle handle, IoRegistration current) {
            this.handle = handle;
            this.current = current;
        }

        @Override
        public long submit(IoOps ops) {
            boolean none = ((EpollIoOps) ops).value() == EpollIoOps.NONE.value();
            if (removed && !none && current.isValid()) {
                // Forget the stale registration (its EPOLL_CTL_DEL finds nothing to remove, which
                // Netty ignores) and register the socket again: the new one starts with an ADD.
                current.cancel();
                try {
                    current = epoll.register(handle);
                } catch (Exception e) {
                    throw new IllegalStateException("re-registering a socket with epoll failed", e);
                }
            }
            long submitted = current.submit(ops);
            removed = none;
            return submitted;
        }

        @Override
        public <T> T attachment() {
            return current.attachment();
        }

        @Override
        public boolean isValid() {
            return current.isValid();
        }

        @Override
        public boolean cancel() {
            return current.cancel();
        }
    }
}
