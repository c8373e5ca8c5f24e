package io.galeralb.core.io;

import io.netty.channel.IoHandle;
import io.netty.channel.IoHandler;
import io.netty.channel.IoHandlerContext;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.IoRegistration;
import io.netty.util.concurrent.ThreadAwareExecutor;
import java.util.function.BiFunction;

/** An {@link IoHandler} that hands every call to the one it wraps; subclasses change what they need. */
abstract class ForwardingIoHandler implements IoHandler {

    protected final IoHandler wrapped;

    protected ForwardingIoHandler(IoHandler wrapped) {
        this.wrapped = wrapped;
    }

    /** A factory whose handlers are {@code wrap} applied to each handler {@code ioHandlers} makes, with its thread. */
    static IoHandlerFactory wrapping(IoHandlerFactory ioHandlers,
                                     BiFunction<IoHandler, ThreadAwareExecutor, IoHandler> wrap) {
        return new IoHandlerFactory() {
            @Override
            public IoHandler newHandler(ThreadAwareExecutor ioExecutor) {
                return wrap.apply(ioHandlers.newHandler(ioExecutor), ioExecutor);
            }

            @Override
            public boolean isChangingThreadSupported() {
                return ioHandlers.isChangingThreadSupported();
            }
        };
    }

    @Override
    public void initialize() {
        wrapped.initialize();
    }

    @Override
    public int run(IoHandlerContext context) {
        return wrapped.run(context);
    }

    @Override
    public void prepareToDestroy() {
        wrapped.prepareToDestroy();
    }

    @Override
    public void destroy() {
        wrapped.destroy();
    }

    @Override
    public IoRegistration register(IoHandle handle) throws Exception {
        return wrapped.register(handle);
    }

    @Override
    public void wakeup() {
        wrapped.wakeup();
    }

    @Override
    public boolean isCompatible(Class<? extends IoHandle> handleType) {
        return wrapped.isCompatible(handleType);
    }
}
