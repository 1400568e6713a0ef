package org.murmur.server.ledger;

import java.util.Arrays;
import java.util.Objects;

/**
 * What {@link LedgerFile#verify} found in a ledger file that is not corrupt: how many complete
 * records it holds, the hash of the last one (32 zero bytes if none), and how many bytes past them
 * are a torn tail that {@link LedgerFile#open} would cut. Immutable: the hash is copied in and out.
 */
public record Verification(long records, byte[] head, long tornBytes) {
    public Verification {
        head = Objects.requireNonNull(head, "head").clone();
    }

    @Override
    public byte[] head() {
        return head.clone();
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof Verification v
                && records == v.records
                && tornBytes == v.tornBytes
                && Arrays.equals(head, v.head);
    }

    @Override
    public int hashCode() {
        return Objects.hash(records, tornBytes, Arrays.hashCode(head));
    }

    @Override
    public String toString() {
        return "Verification[records=" + records + ", head=" + LedgerFormat.hex(head) + ", tornBytes=" + tornBytes
                + "]";
    }
}
