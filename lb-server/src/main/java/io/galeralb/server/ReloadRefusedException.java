package io.galeralb.server;

/** A reload that would do harm and is not applied; the message says why and how to go on. */
public final class ReloadRefusedException extends Exception {
    ReloadRefusedException(String message) {
        super(message);
    }
}
