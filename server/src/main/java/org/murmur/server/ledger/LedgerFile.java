package org.murmur.server.ledger;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * One task's durable, append-only, hash-chained ledger file. Payloads are opaque bytes. Every
 * record {@link #append} returns is on disk (written and fsynced) before it returns, and is never
 * dropped afterwards: only a record whose append was cut short by a crash is ever removed. Each
 * instance holds an exclusive lock on its file, so one writer at a time; appends are thread-safe.
 *
 * <p>File format, all integers big-endian, {@code str(x)} = u32 length + bytes (UTF-8 for strings):
 * <pre>
 * header  = "MURMUR-LEDGER\n"  u32 version (1)  str(ledgerId)
 * record  = u32 magic 0x4D524C31 ("MRL1")  u32 bodyLength  body  hash[32]
 * body    = u64 seq  u64 timeUnixMs  str(type)  str(payload)  prevHash[32]
 * hash    = SHA-256(body);  prevHash of seq 0 = 32 zero bytes ({@link #genesis()})
 * </pre>
 * Seq counts from 0 with no gaps. The type is 1 to 64 ASCII letters, the payload at most 1 MiB,
 * the ledger id 1 to 256 UTF-8 bytes.
 *
 * <p>Torn tail versus corruption. Reading from the start, a record is bad when its framing is
 * incomplete, its magic or body length is wrong, its hash does not match its body, its seq is not
 * the previous one plus one, or its prevHash is not the previous record's hash. Because appends
 * are sequential and each is fsynced, a crash can damage only the record being appended, so a bad
 * record is a <em>torn tail</em> (cut by {@link #open}, reported by {@link #verify}) only when the
 * bytes from it to the end of the file are what an interrupted append leaves: a prefix of the
 * expected next record (right magic, seq and prevHash as far as they go, lengths consistent), that
 * record's full extent failing only its hash, or zeros. Anything else, including a bad record
 * followed by further bytes, or a last record whose hash is valid but whose chain link is not, is
 * corruption: {@link CorruptLedgerException}, and the file is left untouched, since silently
 * dropping acknowledged events is never allowed. A file shorter than its header is a torn header
 * if it is a prefix of the expected one (the header is rewritten), otherwise foreign.
 */
public final class LedgerFile implements AutoCloseable {
    private final Path path;
    private final FileChannel channel;
    private final long tornBytesRepaired;
    private final MessageDigest sha256 = LedgerFormat.sha256();
    private long size;
    private byte[] head;
    private long end;
    private boolean closed;
    /** Set when a failed append could not be cut back: the file may hold a partial record. */
    private IOException unrepaired;

    private LedgerFile(Path path, FileChannel channel, LedgerScanner.Result scan, long end) {
        this.path = path;
        this.channel = channel;
        this.tornBytesRepaired = scan.tornBytes();
        this.size = scan.records();
        this.head = scan.head();
        this.end = end;
    }

    /** 32 zero bytes: the prevHash of record 0 and the head of an empty ledger. */
    public static byte[] genesis() {
        return LedgerFormat.genesis();
    }

    /**
     * Opens the ledger at {@code file}, creating it (with a header naming {@code ledgerId}) if it
     * is absent or empty, and calls {@code replay} for each record in order before returning. A
     * torn tail is cut back to the last complete record, durably, and reported by
     * {@link #tornBytesRepaired()}. A foreign file, another ledger's file, or corruption throws
     * {@link CorruptLedgerException} without modifying the file; {@code replay} may by then have
     * seen the records before the bad one, so state built from them must be discarded.
     *
     * @throws IOException also when another process, or another instance in this one, has it open
     */
    public static LedgerFile open(Path file, String ledgerId, Consumer<LedgerRecord> replay) throws IOException {
        Objects.requireNonNull(replay, "replay");
        byte[] header = LedgerFormat.header(ledgerId);
        boolean created = true;
        FileChannel channel;
        try {
            channel = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                    StandardOpenOption.WRITE);
        } catch (FileAlreadyExistsException exists) {
            created = false;
            channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
        }
        try {
            lock(channel, file);
            LedgerScanner.Result scan = LedgerScanner.scan(channel, file, ledgerId, replay);
            long end = scan.validEnd();
            if (scan.tornBytes() > 0) {
                channel.truncate(end);
            }
            if (scan.headerMissing()) {
                writeFully(channel, ByteBuffer.wrap(header), 0);
                end = header.length;
            }
            if (scan.tornBytes() > 0 || scan.headerMissing()) {
                channel.force(true);
            }
            if (created) {
                syncDirectory(file.toAbsolutePath().getParent());
            }
            return new LedgerFile(file, channel, scan, end);
        } catch (IOException | RuntimeException | Error e) {
            try {
                channel.close();
            } catch (IOException closing) {
                e.addSuppressed(closing);
            }
            throw e;
        }
    }

    /**
     * Checks a ledger file without modifying it, calling {@code visitor} for each valid record in
     * order. Throws {@link CorruptLedgerException} exactly where {@link #open} would, and
     * {@link java.nio.file.NoSuchFileException} for an absent file (open would create it).
     */
    public static Verification verify(Path file, String ledgerId, Consumer<LedgerRecord> visitor)
            throws IOException {
        Objects.requireNonNull(visitor, "visitor");
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            LedgerScanner.Result scan = LedgerScanner.scan(channel, file, ledgerId, visitor);
            return new Verification(scan.records(), scan.head(), scan.tornBytes());
        }
    }

    /**
     * Appends a record with the next seq, chained to {@link #head()}, and returns once it is
     * durable. If writing or syncing fails, the file is cut back to its previous length and the
     * exception propagates; should the cut itself fail, every later append throws.
     *
     * @throws IllegalArgumentException for a type that is not 1 to 64 ASCII letters or a payload over 1 MiB
     * @throws IllegalStateException after {@link #close()}
     */
    public synchronized LedgerRecord append(String type, long timeUnixMs, byte[] payload) throws IOException {
        byte[] typeBytes = LedgerFormat.typeBytes(type);
        if (Objects.requireNonNull(payload, "payload").length > LedgerFormat.MAX_PAYLOAD_BYTES) {
            throw new IllegalArgumentException("payload is " + payload.length + " bytes, the limit is "
                    + LedgerFormat.MAX_PAYLOAD_BYTES);
        }
        if (closed) {
            throw new IllegalStateException("ledger " + path + " is closed");
        }
        if (unrepaired != null) {
            throw new IOException("ledger " + path + " may end in a partial record after a failed append;"
                    + " reopen it to repair", unrepaired);
        }
        ByteBuffer record = LedgerFormat.encode(sha256, size, timeUnixMs, typeBytes, payload, head);
        try {
            writeFully(channel, record, end);
            channel.force(false);
        } catch (IOException e) {
            cutBack(e);
            throw e;
        }
        byte[] hash = Arrays.copyOfRange(record.array(), record.limit() - LedgerFormat.HASH_BYTES, record.limit());
        LedgerRecord appended = new LedgerRecord(size, timeUnixMs, type, payload, head, hash);
        size++;
        head = hash;
        end += record.limit();
        return appended;
    }

    private void cutBack(IOException failure) {
        try {
            channel.truncate(end);
            channel.force(true);
        } catch (IOException | RuntimeException e) {
            failure.addSuppressed(e);
            unrepaired = failure;
        }
    }

    /** The hash of the last record, or {@link #genesis()} when there is none. */
    public synchronized byte[] head() {
        return head.clone();
    }

    /** The number of records; also the seq the next append gets. */
    public synchronized long size() {
        return size;
    }

    /** How many bytes of torn tail (or torn header) {@link #open} cut; 0 for a clean file. */
    public long tornBytesRepaired() {
        return tornBytesRepaired;
    }

    public Path path() {
        return path;
    }

    /** Closes the file and releases its lock; idempotent. */
    @Override
    public synchronized void close() throws IOException {
        if (!closed) {
            closed = true;
            channel.close();
        }
    }

    private static void lock(FileChannel channel, Path file) throws IOException {
        FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (OverlappingFileLockException held) {
            throw new IOException("ledger " + file + " is already open in this process", held);
        }
        if (lock == null) {
            throw new IOException("ledger " + file + " is open in another process");
        }
    }

    private static void writeFully(FileChannel channel, ByteBuffer data, long position) throws IOException {
        while (data.hasRemaining()) {
            channel.write(data, position + data.position());
        }
    }

    /** Makes the new file's directory entry durable, so a created ledger survives a power loss. */
    private static void syncDirectory(Path directory) throws IOException {
        try (FileChannel dir = FileChannel.open(directory, StandardOpenOption.READ)) {
            dir.force(true);
        }
    }
}
