package org.murmur.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.murmur.kernels.api.ElementType;
import org.murmur.kernels.api.TensorData;
import org.murmur.kernels.api.Update;
import org.murmur.kernels.api.UpdateBatch;

/**
 * The benchmark data: n updates of d float32 values in one raw little-endian file,
 * {@code data-n{n}-d{d}.f32} in the work directory, row-major (update i starts at byte
 * {@code i * d * 4}), so that the NumPy peer reads exactly the same bytes with
 * {@code np.fromfile(path, "<f4").reshape(n, d)}.
 *
 * <p>Honest updates are standard normal; the last {@link #outliers(int)} updates are normal with
 * their mean shifted by {@link #OUTLIER_SHIFT}, so that the robust rules have something to reject.
 * Values are drawn from a fixed seed, one {@link SplittableRandom} split per update, so a file is
 * the same whoever writes it. An existing file of the right size is reused. Files are written
 * under a temporary name and renamed, so a crashed run never leaves a right-sized partial file.
 */
public final class DataFiles {
    /** Seed of the generator; changing it requires deleting the cached files. */
    public static final long SEED = 20240917L;
    /** Mean of the outlier updates (honest updates have mean 0, all have standard deviation 1). */
    public static final double OUTLIER_SHIFT = 4.0;
    /** Floats per mapped buffer of a {@link TensorData}: 2^28 floats, 1 GiB. */
    public static final int CHUNK_FLOATS = 1 << 28;

    private static final int BLOCK_FLOATS = 1 << 16;

    private DataFiles() {
    }

    /**
     * The work directory: system property {@code murmur.bench.work}, else environment variable
     * {@code MURMUR_BENCH_WORK}, else {@code bench/.work} under the current directory.
     */
    public static Path workDir() {
        String dir = System.getProperty("murmur.bench.work");
        if (dir == null || dir.isBlank()) {
            dir = System.getenv("MURMUR_BENCH_WORK");
        }
        if (dir == null || dir.isBlank()) {
            dir = "bench/.work";
        }
        return Path.of(dir).toAbsolutePath();
    }

    /** The number of shifted outliers among n updates: n / 10, at least 1. */
    public static int outliers(int n) {
        return Math.max(1, n / 10);
    }

    public static Path path(Path workDir, int n, long d) {
        return workDir.resolve("data-n" + n + "-d" + d + ".f32");
    }

    /** Returns the data file for (n, d), writing it first unless a file of the right size exists. */
    public static Path ensure(Path workDir, int n, long d) {
        Path file = path(workDir, n, d);
        long bytes = (long) n * d * 4;
        try {
            if (Files.isRegularFile(file) && Files.size(file) == bytes) {
                return file;
            }
            Files.createDirectories(workDir);
            Path partial = workDir.resolve(file.getFileName() + ".partial");
            write(partial, n, d);
            Files.move(partial, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write benchmark data " + file, e);
        }
    }

    private static void write(Path file, int n, long d) throws IOException {
        SplittableRandom master = new SplittableRandom(SEED);
        SplittableRandom[] streams = new SplittableRandom[n];
        for (int i = 0; i < n; i++) {
            streams[i] = master.split();
        }
        int firstOutlier = n - outliers(n);
        int threads = Math.max(1, Math.min(n, Runtime.getRuntime().availableProcessors()));
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            List<Future<?>> pending = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                int update = i;
                double mean = update >= firstOutlier ? OUTLIER_SHIFT : 0.0;
                pending.add(pool.submit(() -> {
                    writeUpdate(channel, (long) update * d * 4, d, streams[update], mean);
                    return null;
                }));
            }
            for (Future<?> future : pending) {
                future.get();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while writing " + file, e);
        } catch (java.util.concurrent.ExecutionException e) {
            Throwable cause = e.getCause();
            throw cause instanceof IOException io ? io : new IOException("cannot write " + file, cause);
        } finally {
            pool.shutdownNow();
        }
    }

    private static void writeUpdate(FileChannel channel, long position, long d, SplittableRandom random, double mean)
            throws IOException {
        ByteBuffer block = ByteBuffer.allocateDirect(BLOCK_FLOATS * 4).order(ByteOrder.LITTLE_ENDIAN);
        long written = 0;
        while (written < d) {
            int run = (int) Math.min(BLOCK_FLOATS, d - written);
            block.clear();
            for (int j = 0; j < run; j++) {
                float value = (float) (mean + random.nextGaussian());
                // Never an exact zero: the benchmark must not run on zeros, not even one.
                block.putFloat(value == 0f ? Float.MIN_NORMAL : value);
            }
            block.flip();
            long at = position + written * 4;
            while (block.hasRemaining()) {
                at += channel.write(block, at);
            }
            written += run;
        }
    }

    /**
     * An {@link UpdateBatch} over the data file, each update a memory-mapped view of its region:
     * one F32 tensor {@code "w"} of shape [d], in buffers of at most {@link #CHUNK_FLOATS} floats.
     * The mappings stay valid after the channel is closed.
     */
    public static UpdateBatch batch(Path file, int n, long d) {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long expected = (long) n * d * 4;
            if (channel.size() != expected) {
                throw new IllegalStateException(file + " holds " + channel.size() + " bytes, expected " + expected);
            }
            List<Update> updates = new ArrayList<>(n);
            int chunkCount = (int) ((d + CHUNK_FLOATS - 1) / CHUNK_FLOATS);
            for (int i = 0; i < n; i++) {
                ByteBuffer[] chunks = new ByteBuffer[chunkCount];
                for (int c = 0; c < chunkCount; c++) {
                    long first = (long) c * CHUNK_FLOATS;
                    long floats = Math.min(CHUNK_FLOATS, d - first);
                    MappedByteBuffer mapped = channel.map(FileChannel.MapMode.READ_ONLY, ((long) i * d + first) * 4, floats * 4);
                    chunks[c] = mapped.order(ByteOrder.LITTLE_ENDIAN);
                }
                TensorData tensor = new TensorData("w", ElementType.F32, new long[] {d}, chunks,
                        Math.min(d, CHUNK_FLOATS));
                updates.add(new Update("update-" + i, List.of(tensor)));
            }
            return new UpdateBatch(updates);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot map " + file, e);
        }
    }

    /** Writes the data files: {@code DataFiles N D [N D ...]}, into {@link #workDir()}. */
    public static void main(String[] args) {
        if (args.length == 0 || args.length % 2 != 0) {
            System.err.println("usage: DataFiles N D [N D ...]   (writes into " + workDir() + ")");
            System.exit(2);
        }
        Path dir = workDir();
        for (int a = 0; a < args.length; a += 2) {
            int n = Integer.parseInt(args[a]);
            long d = Long.parseLong(args[a + 1]);
            long start = System.nanoTime();
            Path file = ensure(dir, n, d);
            System.out.printf("%s (%.1f s)%n", file, (System.nanoTime() - start) / 1e9);
        }
    }
}
