package org.murmur.server.ledger;

import java.util.Arrays;
import java.util.Objects;

/**
 * One stored ledger record. Immutable: arrays are copied in and out. {@code hash} is the SHA-256 of
 * the record's body as laid out in {@link LedgerFile}, and {@code prevHash} the previous record's
 * hash (32 zero bytes for seq 0); records read or appended by {@link LedgerFile} always satisfy
 * both, a record built by hand is only checked for shape.
 */
public record LedgerRecord(long seq, long timeUnixMs, String type, byte[] payload, byte[] prevHash, byte[] hash) {
    public LedgerRecord {
        if (seq < 0) {
            throw new IllegalArgumentException("seq must be >= 0, got " + seq);
        }
        Objects.requireNonNull(type, "type");
        payload = Objects.requireNonNull(payload, "payload").clone();
        prevHash = checkHash("prevHash", prevHash);
        hash = checkHash("hash", hash);
    }

    private static byte[] checkHash(String name, byte[] value) {
        if (Objects.requireNonNull(value, name).length != LedgerFormat.HASH_BYTES) {
            throw new IllegalArgumentException(name + " must be " + LedgerFormat.HASH_BYTES + " bytes, got "
                    + value.length);
        }
        return value.clone();
    }

    @Override
    public byte[] payload() {
        return payload.clone();
    }

    @Override
    public byte[] prevHash() {
        return prevHash.clone();
    }

    @Override
    public byte[] hash() {
        return hash.clone();
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof LedgerRecord r
                && seq == r.seq
                && timeUnixMs == r.timeUnixMs
                && type.equals(r.type)
                && Arrays.equals(payload, r.payload)
                && Arrays.equals(prevHash, r.prevHash)
                && Arrays.equals(hash, r.hash);
    }

    @Override
    public int hashCode() {
        return Objects.hash(seq, timeUnixMs, type, Arrays.hashCode(payload), Arrays.hashCode(prevHash),
                Arrays.hashCode(hash));
    }

    @Override
    public String toString() {
        return "LedgerRecord[seq=" + seq + ", timeUnixMs=" + timeUnixMs + ", type=" + type
                + ", payload=" + payload.length + " bytes, prevHash=" + LedgerFormat.hex(prevHash)
                + ", hash=" + LedgerFormat.hex(hash) + "]";
    }
}
