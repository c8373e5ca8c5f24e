package io.galeralb.core;

/** What an operator set on a server at runtime, over and above its health. */
public enum AdminState {
    /** Takes new sessions when its health check says so. */
    READY,
    /** Takes no new sessions; existing ones go on. */
    DRAIN,
    /** Takes no sessions at all; its health no longer matters. */
    MAINT
}
