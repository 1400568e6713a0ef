package org.murmur.server.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.murmur.proto.identity.NodeId;
import org.murmur.proto.identity.NodeKeys;
import org.murmur.proto.identity.Purpose;

/** Replays are refused within the window; memory stays bounded by the window and the TTL. */
class NonceRegistryTest {
    private final AtomicLong now = new AtomicLong();
    private final NonceRegistry registry = new NonceRegistry(Duration.ofSeconds(10), 3, now::get);
    private final NodeId alice = NodeKeys.generate().nodeId();
    private final NodeId bob = NodeKeys.generate().nodeId();

    private static byte[] nonce(int n) {
        byte[] nonce = new byte[16];
        nonce[0] = (byte) n;
        return nonce;
    }

    @Test
    void aNonceIsAcceptedOncePerNodeAndPurpose() {
        assertTrue(registry.register(alice, Purpose.PUSH_UPDATE, nonce(1)));
        assertFalse(registry.register(alice, Purpose.PUSH_UPDATE, nonce(1)));
        assertTrue(registry.register(alice, Purpose.JOIN, nonce(1)), "another purpose");
        assertTrue(registry.register(bob, Purpose.PUSH_UPDATE, nonce(1)), "another node");
    }

    @Test
    void noncesExpireAfterTheirTtl() {
        assertTrue(registry.register(alice, Purpose.PUSH_UPDATE, nonce(1)));
        now.addAndGet(Duration.ofSeconds(9).toNanos());
        assertFalse(registry.register(alice, Purpose.PUSH_UPDATE, nonce(1)));
        assertTrue(registry.register(alice, Purpose.PUSH_UPDATE, nonce(2)));
        now.addAndGet(Duration.ofSeconds(1).toNanos());
        assertEquals(1, registry.size(alice), "the first expired, the second is 1 s old");
        assertTrue(registry.register(alice, Purpose.PUSH_UPDATE, nonce(1)));
    }

    @Test
    void theWindowKeepsTheNewestNonces() {
        for (int i = 0; i < 5; i++) {
            assertTrue(registry.register(alice, Purpose.PUSH_UPDATE, nonce(i)));
        }
        assertEquals(3, registry.size(alice));
        assertFalse(registry.register(alice, Purpose.PUSH_UPDATE, nonce(4)));
        assertFalse(registry.register(alice, Purpose.PUSH_UPDATE, nonce(2)));
        assertTrue(registry.register(alice, Purpose.PUSH_UPDATE, nonce(0)), "the oldest was forgotten");
    }
}
