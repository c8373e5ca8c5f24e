package io.galeralb.core;

import io.galeralb.config.HostPort;
import java.net.BindException;
import java.util.Locale;

/** A listener could not bind its address; the message names the listener, address and cause. */
public final class ListenerBindException extends Exception {

    private final String listener;
    private final HostPort bind;

    public ListenerBindException(String listener, HostPort bind, Throwable cause) {
        super("cannot bind listener " + listener + " on " + bind + ": " + cause.getMessage(), cause);
        this.listener = listener;
        this.bind = bind;
    }

    public String listener() {
        return listener;
    }

    public HostPort bind() {
        return bind;
    }

    /** True when another socket holds the address (as opposed to, say, an address not on this host). */
    public boolean addressInUse() {
        return getCause() instanceof BindException
                || String.valueOf(getCause().getMessage()).toLowerCase(Locale.ROOT).contains("in use");
    }
}
