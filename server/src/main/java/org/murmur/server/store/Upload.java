package org.murmur.server.store;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.util.Objects;

/**
 * One active upload of one update, obtained from {@link UpdateStore#begin}. Chunks are appended
 * strictly in order with {@link #write}; {@link #sync} makes them durable; {@link #complete}
 * verifies and publishes the file; {@link #abort} (or {@link #close}) leaves it for a later resume.
 * Exactly one of {@code complete} (successful or not) and {@code abort} ends it and frees the key.
 * Methods are synchronized, though one thread (the stream's) normally drives an upload.
 *
 * <h2>The durable offset</h2>
 * {@link #durableOffset()} is the number of leading bytes of the update known to be on stable
 * storage. It starts at 0 for a fresh upload, advances to the write position at each {@link #sync},
 * and on a resume it is the partial file's length <em>after</em> the store fsyncs it in
 * {@code begin}. The store does not record the synced length in the sidecar; it fsyncs and then
 * trusts the file length, because:
 * <ul>
 *   <li>after a process crash (the common case: SIGKILL, OOM kill, a dropped connection) every
 *       byte the dead process wrote is in the page cache, hence in the file; fsyncing them on
 *       resume makes them durable and saves re-sending everything written since the last sync;</li>
 *   <li>after a power loss, a filesystem that journals the size before the data could expose a
 *       tail of zeros or stale blocks; such bytes never reach a complete file, because a resumed
 *       upload is re-hashed <em>from disk</em> at {@link #complete} and a mismatch deletes the
 *       partial (the node retries from 0). Nothing acknowledged is affected: an update is
 *       acknowledged only after {@code complete} returns, when it is fsynced and renamed;</li>
 *   <li>it costs nothing per sync: recording the synced length would mean an atomic sidecar
 *       rewrite (write, fsync, rename, directory fsync) on every sync.</li>
 * </ul>
 * So the durable offset never goes backwards within a process, and after a crash it is at least
 * the last synced offset (the test suite checks both with a SIGKILLed child JVM).
 */
public final class Upload implements AutoCloseable {
    private enum State { OPEN, COMPLETED, ABORTED, FAILED }

    private final UpdateStore store;
    private final UpdateKey key;
    private final UpdateStore.Slot slot;
    private final Path directory;
    private final Path partial;
    private final Path sidecar;
    private final Path target;
    private final long totalBytes;
    private final byte[] expectedSha256;
    private final FileChannel channel;
    private final boolean resumed;
    /** Incremental digest of a fresh upload; null after a resume (then {@code complete} re-hashes). */
    private final MessageDigest digest;

    private long position;
    private volatile long durableOffset;
    private State state = State.OPEN;

    Upload(UpdateStore store, UpdateKey key, UpdateStore.Slot slot, Path directory, Path partial, Path sidecar,
           Path target, long totalBytes, byte[] expectedSha256, FileChannel channel, long durableOffset,
           boolean resumed) {
        this.store = store;
        this.key = key;
        this.slot = slot;
        this.directory = directory;
        this.partial = partial;
        this.sidecar = sidecar;
        this.target = target;
        this.totalBytes = totalBytes;
        this.expectedSha256 = expectedSha256;
        this.channel = channel;
        this.position = durableOffset;
        this.durableOffset = durableOffset;
        this.resumed = resumed;
        this.digest = resumed ? null : Durable.sha256();
        slot.upload = this;
    }

    public UpdateKey key() {
        return key;
    }

    public long totalBytes() {
        return totalBytes;
    }

    /** The declared SHA-256 (a copy). */
    public byte[] expectedSha256() {
        return expectedSha256.clone();
    }

    /** Whether {@code begin} resumed an interrupted upload rather than starting at 0. */
    public boolean resumed() {
        return resumed;
    }

    /** Bytes written so far: the offset the next chunk must start at. */
    public synchronized long position() {
        return position;
    }

    /** Bytes known to be on stable storage; see the class comment. The node resumes from here. */
    public long durableOffset() {
        return durableOffset;
    }

    /**
     * Appends {@code data}'s remaining bytes at {@code offset}, straight from the buffer to the file
     * channel (a direct buffer, as gRPC/Netty hands out, is never copied onto the heap). On success
     * the buffer's position reaches its limit. Not durable until {@link #sync}.
     *
     * @throws ChunkOrderException    {@code offset} is not exactly {@link #position()}; nothing written
     * @throws SizeMismatchException  the chunk would run past the declared total; nothing written
     * @throws IOException            the write failed; the upload is then closed (resume with begin)
     */
    public synchronized void write(long offset, ByteBuffer data) throws IOException {
        Objects.requireNonNull(data, "data");
        ensureOpen();
        if (offset != position) {
            throw new ChunkOrderException(key, position, offset);
        }
        int length = data.remaining();
        if (length > totalBytes - position) {
            throw SizeMismatchException.pastTotal(key, totalBytes, offset, length);
        }
        ByteBuffer hashed = digest == null ? null : data.duplicate(); // a view: shares the bytes
        long at = position;
        try {
            while (data.hasRemaining()) {
                at += channel.write(data, at);
            }
        } catch (IOException | RuntimeException | Error e) {
            fail();
            throw e;
        }
        if (hashed != null) {
            digest.update(hashed);
        }
        position = at;
        slot.remaining = totalBytes - at;
    }

    /**
     * Forces the written bytes to stable storage and advances {@link #durableOffset()} to
     * {@link #position()}. Call it every few MiB and before telling a node an offset is safe.
     */
    public synchronized void sync() throws IOException {
        ensureOpen();
        try {
            channel.force(false); // fdatasync: the data and the size, enough to read it back
        } catch (IOException | RuntimeException | Error e) {
            fail();
            throw e;
        }
        durableOffset = position;
    }

    /**
     * Verifies and publishes the update: checks the size, computes the SHA-256 (incrementally for a
     * fresh upload, re-read from disk in bounded memory after a resume), fsyncs, renames the partial
     * to {@code <nodeId>.safetensors} atomically, fsyncs the directory, then removes the sidecar. Once
     * this returns, the update is durable and may be acknowledged.
     *
     * @return the complete file
     * @throws SizeMismatchException      fewer than the declared bytes were written (the upload stays open)
     * @throws ChecksumMismatchException  the bytes do not hash to the declared SHA-256; the partial
     *                                    and its sidecar are deleted and the key freed, so the node
     *                                    can retry cleanly from 0
     */
    public synchronized Path complete() throws IOException {
        return complete(partialFile -> { });
    }

    /**
     * Like {@link #complete()}, but first runs {@code check} on the fsynced, checksum-verified
     * partial file; if it throws, the partial is deleted (durably) and the exception propagates, so
     * a file that fails the caller's content checks is never visible as a complete update.
     */
    public synchronized <E extends Exception> Path complete(ContentCheck<E> check) throws E, IOException {
        ensureOpen();
        if (position != totalBytes) {
            throw SizeMismatchException.shortOfTotal(key, totalBytes, position);
        }
        try {
            channel.force(true);
            byte[] actual = digest != null ? digest.digest() : Durable.sha256(channel, totalBytes);
            if (!MessageDigest.isEqual(actual, expectedSha256)) {
                discardPartial();
                throw new ChecksumMismatchException(key, Durable.hex(expectedSha256), Durable.hex(actual), totalBytes);
            }
            try {
                check.check(partial);
            } catch (Exception rejected) {
                discardPartial();
                throw rejected;
            }
            channel.close();
            Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE);
            Durable.syncDirectory(directory); // makes the rename durable: from here on it may be acknowledged
            durableOffset = totalBytes;
            end(State.COMPLETED);
            // Best effort and not fsynced: a sidecar left beside a complete file is ignored by every
            // lookup (begin reports the duplicate, list and find only see *.safetensors).
            try {
                Files.deleteIfExists(sidecar);
            } catch (IOException ignored) {
                // harmless, see above
            }
            return target;
        } catch (Exception e) {
            if (state == State.OPEN) {
                fail();
            }
            throw e;
        } catch (Error e) {
            if (state == State.OPEN) {
                fail();
            }
            throw e;
        }
    }

    /** A check of a complete, verified upload's bytes before they are published. */
    @FunctionalInterface
    public interface ContentCheck<E extends Exception> {
        void check(Path file) throws E, IOException;
    }

    private void discardPartial() throws IOException {
        channel.close();
        Files.deleteIfExists(partial);
        Files.deleteIfExists(sidecar);
        Durable.syncDirectory(directory);
        end(State.FAILED);
    }

    /**
     * Closes the upload without deleting anything, freeing the key; a later {@code begin} with the
     * same expectations resumes it. Idempotent, and a no-op after {@code complete}.
     */
    public synchronized void abort() throws IOException {
        if (state != State.OPEN) {
            return;
        }
        try {
            channel.close();
        } finally {
            end(State.ABORTED);
        }
    }

    /** Same as {@link #abort()}. */
    @Override
    public void close() throws IOException {
        abort();
    }

    private void ensureOpen() {
        if (state != State.OPEN) {
            throw new IllegalStateException(key + ": upload is " + state.name().toLowerCase(java.util.Locale.ROOT));
        }
    }

    /** After an I/O failure the position is uncertain: close and leave the file for a resume. */
    private void fail() {
        try {
            channel.close();
        } catch (IOException ignored) {
            // already failing; the original exception is what matters
        }
        end(State.FAILED);
    }

    private void end(State end) {
        state = end;
        slot.remaining = 0;
        slot.upload = null;
        store.release(key, slot);
    }
}
