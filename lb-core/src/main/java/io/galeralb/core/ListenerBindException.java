package io.galeralb.core;

import io.galeralb.config.HostPort;

/** A listener could not bind its address; the message names the listener, address and cause. */
public final class ListenerBindException extends Exception {

    public ListenerBindException(String listener, HostPort bind, Throwable cause) {
        super("cannot bind listener " + listener + " on " + bind + ": " + cause.getMessage(), cause);
    }
}
