package io.galeralb.server.process;

/** A reload that would do harm and is not applied; the message says why and how to go on. */
public final class ReloadRefusedException extends Exception {
    public ReloadRefusedException(String message) {
        super(message);
    }
}
