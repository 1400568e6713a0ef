package org.murmur.server.metrics;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * The data directory on disk: bytes held by each store (updates, models, ledgers; recounted at most
 * every {@link #RECOUNT_MILLIS} so a scrape never walks a big directory twice in a row) and the
 * free and total bytes of its file system, which the disk-nearly-full alert reads. Thread-safe.
 */
public final class StoreMetrics implements MeterBinder {
    public static final String STORE_BYTES = "murmur.store.bytes";
    public static final String DISK_FREE = "murmur.store.disk.free.bytes";
    public static final String DISK_TOTAL = "murmur.store.disk.total.bytes";
    static final long RECOUNT_MILLIS = 15_000;

    private final Path dataDir;

    public StoreMetrics(Path dataDir) {
        this.dataDir = dataDir.toAbsolutePath().normalize();
    }

    @Override
    public void bindTo(MeterRegistry meters) {
        for (String store : new String[] {"updates", "models", "tasks"}) {
            DirectorySize size = new DirectorySize(dataDir.resolve(store));
            Gauge.builder(STORE_BYTES, size, DirectorySize::bytes).tag("store", store).baseUnit("bytes")
                    .description("Bytes held in the data directory, by store (tasks: the ledgers)").register(meters);
        }
        Gauge.builder(DISK_FREE, this, m -> m.fileStore(FileStore::getUsableSpace)).baseUnit("bytes")
                .description("Bytes free for the server on the data directory's file system").register(meters);
        Gauge.builder(DISK_TOTAL, this, m -> m.fileStore(FileStore::getTotalSpace)).baseUnit("bytes")
                .description("Size of the data directory's file system").register(meters);
    }

    @FunctionalInterface
    private interface SpaceQuery {
        long bytes(FileStore store) throws IOException;
    }

    private double fileStore(SpaceQuery query) {
        try {
            return query.bytes(Files.getFileStore(dataDir));
        } catch (IOException e) {
            return Double.NaN;
        }
    }

    /** A directory's total file size, recounted when the last count is older than {@link #RECOUNT_MILLIS}. */
    private static final class DirectorySize {
        private final Path dir;
        private final AtomicLong countedAt = new AtomicLong(Long.MIN_VALUE / 2);
        private volatile double bytes;

        DirectorySize(Path dir) {
            this.dir = dir;
        }

        double bytes() {
            long now = System.currentTimeMillis();
            long last = countedAt.get();
            if (now - last >= RECOUNT_MILLIS && countedAt.compareAndSet(last, now)) {
                bytes = count();
            }
            return bytes;
        }

        private double count() {
            if (!Files.isDirectory(dir)) {
                return 0;
            }
            try (Stream<Path> files = Files.walk(dir)) {
                return files.filter(Files::isRegularFile).mapToLong(file -> {
                    try {
                        return Files.size(file);
                    } catch (IOException e) {
                        return 0; // removed while counting
                    }
                }).sum();
            } catch (IOException | UncheckedIOException e) {
                return Double.NaN;
            }
        }
    }
}
