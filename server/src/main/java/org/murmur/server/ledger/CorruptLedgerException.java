package org.murmur.server.ledger;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A ledger file that is damaged somewhere a crash cannot reach (anywhere but a torn last record),
 * or that is not this ledger's file at all. The file was left exactly as it was found. The message
 * names the file, the record's seq (the seq expected at that point; -1 for the header), its byte
 * offset (when the failure has one: a broken rule of an intact record has none) and what failed.
 */
public final class CorruptLedgerException extends IOException {
    private static final long serialVersionUID = 1L;
    private final transient Path file;
    private final long seq;
    private final long offset;
    private final String reason;

    public CorruptLedgerException(Path file, long seq, long offset, String reason) {
        super("corrupt ledger " + file + ": " + (seq < 0 ? "header (seq -1)" : "record seq " + seq)
                + (offset < 0 ? "" : " at byte offset " + offset) + ": " + reason);
        this.file = file;
        this.seq = seq;
        this.offset = offset;
        this.reason = reason;
    }

    public Path file() {
        return file;
    }

    /** The seq the bad record should have had, or -1 when the header is at fault. */
    public long seq() {
        return seq;
    }

    /** Where the bad record (or header) starts in the file. */
    public long offset() {
        return offset;
    }

    /** What failed, without the file, seq and offset. */
    public String reason() {
        return reason;
    }
}
