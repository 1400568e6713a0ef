package org.murmur.bench.demo;

/** A simulated node stopped on an error, so the demo run was abandoned; the message names the node and why. */
final class NodeFailedException extends Exception {
    private static final long serialVersionUID = 1L;

    NodeFailedException(Fleet.Member member, Throwable cause) {
        super("node " + member.index() + " (" + member.id() + ") stopped: " + cause, cause);
    }
}
