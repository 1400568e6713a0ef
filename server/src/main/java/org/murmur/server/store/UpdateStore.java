package org.murmur.server.store;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * One file per node update under {@code <data>/updates/<taskId>/<round>/}:
 * <ul>
 *   <li>{@code <nodeId>.safetensors}: a complete update, fsynced, SHA-256-checked and renamed into
 *       place atomically. Only these are ever returned by {@link #find} and {@link #list}.</li>
 *   <li>{@code <nodeId>.safetensors.partial}: an upload in progress or interrupted; resumable.</li>
 *   <li>{@code <nodeId>.upload}: its sidecar, the expected total bytes and SHA-256, replaced
 *       atomically (written to {@code <nodeId>.upload.tmp}, fsynced, renamed).</li>
 * </ul>
 * Thread-safe. At most one {@link Upload} per key is active at a time. A data directory belongs to
 * one server process.
 */
public final class UpdateStore {
    /** Free space kept in reserve by default when admitting uploads: 64 MiB. */
    public static final long DEFAULT_RESERVE_BYTES = 64L << 20;

    static final String COMPLETE_SUFFIX = ".safetensors";
    static final String PARTIAL_SUFFIX = ".safetensors.partial";
    static final String SIDECAR_SUFFIX = ".upload";
    private static final String SIDECAR_MAGIC = "murmur-upload 1";
    private static final int SIDECAR_MAX_BYTES = 4096;

    private final Path root;
    private final long reserveBytes;
    /** One slot per key with an active upload (or a begin/discard in progress). */
    private final ConcurrentMap<UpdateKey, Slot> active = new ConcurrentHashMap<>();

    /** Claim on a key; {@code remaining} is what that upload still needs on disk, for space checks. */
    static final class Slot {
        volatile long remaining;
        /** Set once begin has handed the upload over (for {@link #status}). */
        volatile Upload upload;
    }

    /** @see #UpdateStore(Path, long) with {@link #DEFAULT_RESERVE_BYTES} */
    public UpdateStore(Path dataDir) throws IOException {
        this(dataDir, DEFAULT_RESERVE_BYTES);
    }

    /**
     * @param dataDir      the server's data directory; {@code updates/} is created under it
     * @param reserveBytes usable space that {@link #begin} always leaves free on the filesystem
     */
    public UpdateStore(Path dataDir, long reserveBytes) throws IOException {
        Objects.requireNonNull(dataDir, "dataDir");
        if (reserveBytes < 0) {
            throw new IllegalArgumentException("reserveBytes must be >= 0, got " + reserveBytes);
        }
        Path data = dataDir.toAbsolutePath().normalize();
        Files.createDirectories(data);
        this.root = data.resolve("updates");
        Durable.createDirectories(data, root);
        this.reserveBytes = reserveBytes;
    }

    /** {@code <data>/updates}. */
    public Path root() {
        return root;
    }

    public long reserveBytes() {
        return reserveBytes;
    }

    /**
     * Starts an upload of {@code totalBytes} bytes whose SHA-256 must be {@code sha256}, or resumes
     * an interrupted one with the same expectations from its {@link Upload#durableOffset()}.
     *
     * @throws DuplicateUpdateException    a complete update exists for the key
     * @throws UploadConflictException     an interrupted upload with other (or unreadable)
     *                                     expectations holds bytes; see {@link #discard}
     * @throws UploadBusyException         another upload of the key is active
     * @throws InsufficientSpaceException  the filesystem cannot hold the rest plus the reserve
     * @throws IllegalArgumentException    {@code totalBytes < 0} or {@code sha256} not 32 bytes
     */
    public Upload begin(UpdateKey key, long totalBytes, byte[] sha256) throws IOException {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(sha256, "sha256");
        if (totalBytes < 0) {
            throw new IllegalArgumentException("totalBytes must be >= 0, got " + totalBytes + " (" + key + ")");
        }
        if (sha256.length != 32) {
            throw new IllegalArgumentException("sha256 must be 32 bytes, got " + sha256.length + " (" + key + ")");
        }
        Slot slot = claim(key);
        boolean handedOver = false;
        try {
            Upload upload = open(key, totalBytes, sha256.clone(), slot);
            handedOver = true;
            return upload;
        } finally {
            if (!handedOver) {
                release(key, slot);
            }
        }
    }

    private Upload open(UpdateKey key, long totalBytes, byte[] sha256, Slot slot) throws IOException {
        Path dir = directory(key);
        Path target = completePath(key);
        if (Files.exists(target)) {
            throw new DuplicateUpdateException(key, Files.size(target));
        }
        Path partial = dir.resolve(key.nodeId() + PARTIAL_SUFFIX);
        Path sidecar = dir.resolve(key.nodeId() + SIDECAR_SUFFIX);
        if (Files.exists(partial)) {
            FileChannel channel = FileChannel.open(partial, StandardOpenOption.READ, StandardOpenOption.WRITE);
            boolean handedOver = false;
            try {
                // The durable offset of a resumed upload: fsync whatever the file holds now, then
                // take its length. See Upload#durableOffset for why this is safe.
                channel.force(true);
                long length = channel.size();
                if (length > 0) {
                    Expectation recorded = readSidecar(sidecar);
                    if (recorded == null) {
                        throw new UploadConflictException(key, length, "its sidecar " + sidecar.getFileName()
                                + " is missing or unreadable, so its expected size and SHA-256 are unknown");
                    }
                    if (recorded.totalBytes != totalBytes || !MessageDigest.isEqual(recorded.sha256, sha256)) {
                        throw new UploadConflictException(key, length, "it expects " + recorded.totalBytes
                                + " bytes with SHA-256 " + Durable.hex(recorded.sha256) + ", this upload declares "
                                + totalBytes + " bytes with SHA-256 " + Durable.hex(sha256));
                    }
                    if (length > totalBytes) {
                        throw new UploadConflictException(key, length, "it holds more than the expected total of "
                                + totalBytes + " bytes");
                    }
                    checkSpace(key, totalBytes - length, slot);
                    slot.remaining = totalBytes - length;
                    Upload upload = new Upload(this, key, slot, dir, partial, sidecar, target, totalBytes, sha256,
                            channel, length, true);
                    handedOver = true;
                    return upload;
                }
                // An empty partial holds nothing worth keeping (e.g. a crash between creating it and
                // making the sidecar durable): start afresh over it.
            } finally {
                if (!handedOver) {
                    channel.close();
                }
            }
        }
        checkSpace(key, totalBytes, slot);
        Durable.createDirectories(root, dir);
        // Sidecar first, so that a non-empty partial always has its expectations beside it; one
        // directory fsync then makes both names durable (an empty partial alone is harmless, above).
        Durable.writeAtomically(sidecar, sidecarBytes(totalBytes, sha256));
        FileChannel channel = FileChannel.open(partial, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.READ, StandardOpenOption.TRUNCATE_EXISTING);
        try {
            Durable.syncDirectory(dir);
            slot.remaining = totalBytes;
            return new Upload(this, key, slot, dir, partial, sidecar, target, totalBytes, sha256, channel, 0, false);
        } catch (IOException | RuntimeException | Error e) {
            channel.close();
            throw e;
        }
    }

    /** The complete update for {@code key}, if any. A {@code .partial} is never returned. */
    public Optional<Path> find(UpdateKey key) {
        Path target = completePath(Objects.requireNonNull(key, "key"));
        return Files.isRegularFile(target) ? Optional.of(target) : Optional.empty();
    }

    /**
     * The complete updates of one round, ordered by node id (String order: ids are ASCII, so this is
     * byte order). Partial uploads, sidecars and stray files are never listed.
     */
    public List<StoredUpdate> list(String taskId, long round) throws IOException {
        UpdateKey.validateId("taskId", taskId);
        UpdateKey.validateRound(round);
        Path dir = root.resolve(taskId).resolve(Long.toString(round));
        List<StoredUpdate> updates = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir, "*" + COMPLETE_SUFFIX)) {
            for (Path entry : entries) {
                String name = entry.getFileName().toString();
                String nodeId = name.substring(0, name.length() - COMPLETE_SUFFIX.length());
                if (UpdateKey.isValidId(nodeId) && Files.isRegularFile(entry)) {
                    updates.add(new StoredUpdate(new UpdateKey(taskId, round, nodeId), entry));
                }
            }
        } catch (NoSuchFileException noRound) {
            return List.of();
        }
        updates.sort(Comparator.comparing(u -> u.key().nodeId()));
        return List.copyOf(updates);
    }

    /**
     * Deletes an interrupted upload of {@code key} (its partial file and sidecar), so a
     * {@code begin} with other expectations can start afresh. Never touches a complete update.
     *
     * @return whether anything was deleted
     * @throws UploadBusyException an upload of the key is active
     */
    public boolean discard(UpdateKey key) throws IOException {
        Objects.requireNonNull(key, "key");
        Slot slot = claim(key);
        try {
            Path dir = directory(key);
            boolean deleted = Files.deleteIfExists(dir.resolve(key.nodeId() + PARTIAL_SUFFIX));
            deleted |= Files.deleteIfExists(dir.resolve(key.nodeId() + SIDECAR_SUFFIX));
            deleted |= Files.deleteIfExists(dir.resolve(key.nodeId() + SIDECAR_SUFFIX + ".tmp"));
            if (deleted) {
                Durable.syncDirectory(dir);
            }
            return deleted;
        } finally {
            release(key, slot);
        }
    }

    /**
     * What is stored for {@code key}: where a node should resume. Advisory (another thread may
     * begin or complete right after); {@link #begin} is authoritative.
     */
    public UploadStatus status(UpdateKey key) throws IOException {
        Objects.requireNonNull(key, "key");
        Path target = completePath(key);
        if (Files.isRegularFile(target)) {
            long size = Files.size(target);
            return new UploadStatus(UploadStatus.State.COMPLETE, size, size);
        }
        Path dir = directory(key);
        Expectation recorded = readSidecar(dir.resolve(key.nodeId() + SIDECAR_SUFFIX));
        long total = recorded == null ? -1 : recorded.totalBytes;
        Slot slot = active.get(key);
        Upload upload = slot == null ? null : slot.upload;
        if (upload != null) {
            return new UploadStatus(UploadStatus.State.ACTIVE, upload.durableOffset(), total);
        }
        Path partial = dir.resolve(key.nodeId() + PARTIAL_SUFFIX);
        try (FileChannel channel = FileChannel.open(partial, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            channel.force(true);
            return new UploadStatus(UploadStatus.State.PARTIAL, channel.size(), total);
        } catch (NoSuchFileException none) {
            return new UploadStatus(UploadStatus.State.ABSENT, 0, -1);
        }
    }

    // ---- internals ----

    private Slot claim(UpdateKey key) {
        Slot slot = new Slot();
        if (active.putIfAbsent(key, slot) != null) {
            throw new UploadBusyException(key);
        }
        return slot;
    }

    void release(UpdateKey key, Slot slot) {
        active.remove(key, slot);
    }

    private void checkSpace(UpdateKey key, long remaining, Slot self) throws IOException {
        // Publish our own need first: of two racing begins, each then counts the other (the check
        // errs on the safe side instead of both passing against the same free space).
        self.remaining = remaining;
        long others = 0;
        for (Slot slot : active.values()) {
            if (slot != self) {
                others = saturatingAdd(others, slot.remaining);
            }
        }
        long usable = Files.getFileStore(root).getUsableSpace();
        long needed = saturatingAdd(saturatingAdd(remaining, others), reserveBytes);
        if (usable < needed) {
            throw new InsufficientSpaceException(key, remaining, others, reserveBytes, usable);
        }
    }

    static long saturatingAdd(long a, long b) {
        long sum = a + b;
        return ((a ^ sum) & (b ^ sum)) < 0 ? Long.MAX_VALUE : sum;
    }

    private Path directory(UpdateKey key) {
        return root.resolve(key.taskId()).resolve(Long.toString(key.round()));
    }

    private Path completePath(UpdateKey key) {
        return directory(key).resolve(key.nodeId() + COMPLETE_SUFFIX);
    }

    private record Expectation(long totalBytes, byte[] sha256) {
    }

    private static byte[] sidecarBytes(long totalBytes, byte[] sha256) {
        return (SIDECAR_MAGIC + "\ntotal-bytes " + totalBytes + "\nsha256 " + Durable.hex(sha256) + "\n")
                .getBytes(StandardCharsets.US_ASCII);
    }

    /** The sidecar's expectations, or null when it is missing or malformed. */
    private static Expectation readSidecar(Path sidecar) throws IOException {
        byte[] bytes;
        try {
            if (Files.size(sidecar) > SIDECAR_MAX_BYTES) {
                return null;
            }
            bytes = Files.readAllBytes(sidecar);
        } catch (NoSuchFileException none) {
            return null;
        }
        String[] lines = new String(bytes, StandardCharsets.US_ASCII).split("\n");
        if (lines.length != 3 || !lines[0].equals(SIDECAR_MAGIC)
                || !lines[1].startsWith("total-bytes ") || !lines[2].startsWith("sha256 ")) {
            return null;
        }
        try {
            long total = Long.parseLong(lines[1].substring("total-bytes ".length()));
            String hex = lines[2].substring("sha256 ".length());
            if (total < 0 || hex.length() != 64) {
                return null;
            }
            return new Expectation(total, HexFormat.of().parseHex(hex));
        } catch (IllegalArgumentException malformed) {
            return null;
        }
    }
}
