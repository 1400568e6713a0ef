package org.murmur.server.grpc;

import com.google.protobuf.ByteString;
import java.time.Duration;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import org.murmur.proto.identity.NodeId;
import org.murmur.proto.identity.Purpose;

/**
 * Remembers the nonces of accepted signed requests so that a captured request cannot be replayed.
 *
 * <p>Memory is bounded: per node, a window of at most {@code perNode} nonces, each forgotten
 * {@code ttl} after it was accepted (or earlier, oldest first, when the window is full). Entries
 * exist only for nodes whose signature verified, so the number of nodes is bounded by the
 * registered keys. A forgotten nonce could be replayed, so the TTL must outlast the window in which
 * a request has any effect (for PushUpdate, the round's contribute phase: a later replay is refused
 * by the round gate anyway), and the window must hold more requests than a node legitimately makes
 * in that time.
 *
 * <p>Register a nonce only after its signature verified: otherwise anyone could burn a node's
 * nonces. Thread-safe.
 */
public final class NonceRegistry {
    private final Duration ttl;
    private final long ttlNanos;
    private final int perNode;
    private final LongSupplier nanoClock;
    private final ConcurrentHashMap<NodeId, Window> windows = new ConcurrentHashMap<>();

    private record Key(Purpose purpose, ByteString nonce) {
    }

    /** One node's recent nonces, in acceptance order, with their expiry times (monotonic nanos). */
    private static final class Window {
        final LinkedHashMap<Key, Long> expiries = new LinkedHashMap<>();
    }

    /** A registry on {@link System#nanoTime()}. */
    public NonceRegistry(Duration ttl, int perNode) {
        this(ttl, perNode, System::nanoTime);
    }

    /** A registry reading time from {@code nanoClock} (monotonic nanoseconds), for tests. */
    public NonceRegistry(Duration ttl, int perNode, LongSupplier nanoClock) {
        if (ttl == null || ttl.isNegative() || ttl.isZero()) {
            throw new IllegalArgumentException("ttl must be positive, got " + ttl);
        }
        if (perNode < 1) {
            throw new IllegalArgumentException("perNode must be at least 1, got " + perNode);
        }
        this.ttl = ttl;
        this.ttlNanos = ttl.toNanos();
        this.perNode = perNode;
        this.nanoClock = Objects.requireNonNull(nanoClock, "nanoClock");
    }

    /**
     * Records {@code nonce} for ({@code node}, {@code purpose}).
     *
     * @return true when it was new; false when it is remembered (a replay: refuse the request)
     */
    public boolean register(NodeId node, Purpose purpose, byte[] nonce) {
        Objects.requireNonNull(node, "node");
        Key key = new Key(Objects.requireNonNull(purpose, "purpose"), ByteString.copyFrom(nonce));
        Window window = windows.computeIfAbsent(node, n -> new Window());
        synchronized (window) {
            long now = nanoClock.getAsLong();
            expire(window, now);
            if (window.expiries.containsKey(key)) {
                return false;
            }
            window.expiries.put(key, now + ttlNanos);
            if (window.expiries.size() > perNode) {
                Iterator<Key> eldest = window.expiries.keySet().iterator();
                eldest.next();
                eldest.remove();
            }
            return true;
        }
    }

    /** Nonces remembered for {@code node} now. */
    public int size(NodeId node) {
        Window window = windows.get(node);
        if (window == null) {
            return 0;
        }
        synchronized (window) {
            expire(window, nanoClock.getAsLong());
            return window.expiries.size();
        }
    }

    public Duration ttl() {
        return ttl;
    }

    /** Entries are in acceptance order and share one TTL, so expired ones form a prefix. */
    private static void expire(Window window, long now) {
        Iterator<Map.Entry<Key, Long>> entries = window.expiries.entrySet().iterator();
        while (entries.hasNext()) {
            if (entries.next().getValue() - now > 0) {
                return;
            }
            entries.remove();
        }
    }
}
