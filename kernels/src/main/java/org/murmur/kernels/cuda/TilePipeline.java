package org.murmur.kernels.cuda;

import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import org.murmur.kernels.api.FloatVector;
import org.murmur.kernels.api.UpdateBatch;
import org.murmur.kernels.cuda.CudaDriver.DeviceMemory;
import org.murmur.kernels.cuda.CudaDriver.Event;
import org.murmur.kernels.cuda.CudaDriver.PinnedMemory;
import org.murmur.kernels.cuda.CudaDriver.Stream;

/**
 * Streams the coordinate tiles of a batch through the device. A ring of slots, each a pinned
 * staging buffer with its device twin and an output tile on both sides, lets three things happen
 * at once: the host stages tile t into a free slot while the copy stream moves tile t-1 to the
 * device and the compute stream runs the kernels on tile t-2. The host reuses a slot once that
 * slot's event says the device is done with it, and only then collects the slot's output tile.
 * A pass's kernels run in tile order on one stream, so what they accumulate is deterministic.
 * Device memory: the ring, fixed at construction ({@link CudaSettings#ringBytes}). Not
 * thread-safe.
 */
final class TilePipeline implements AutoCloseable {

    /** A staged tile on the device, as a pass's kernels receive it. */
    record DeviceTile(DeviceMemory tile, int rows, int width, DeviceMemory out, DeviceMemory nonFinite, Stream stream) {
    }

    /** What a pass does with each tile: enqueues its kernels on {@code tile.stream()}. */
    @FunctionalInterface
    interface TileWork {
        void enqueue(DeviceTile tile);
    }

    private final CudaSettings settings;
    private final List<AutoCloseable> owned = new ArrayList<>();
    private final Stream copies;
    private final Stream compute;
    private final Slot[] slots;
    private final DeviceMemory nonFinite;
    private final float[] collected;

    private static final class Slot {
        final PinnedMemory staging;
        final DeviceMemory tile;
        final PinnedMemory hostOut;
        final DeviceMemory deviceOut;
        final Event copied;
        final Event done;
        /** The first coordinate of the tile whose output waits in {@link #hostOut}, or -1. */
        long outStart = -1;
        int outLength;

        Slot(PinnedMemory staging, DeviceMemory tile, PinnedMemory hostOut, DeviceMemory deviceOut, Event copied, Event done) {
            this.staging = staging;
            this.tile = tile;
            this.hostOut = hostOut;
            this.deviceOut = deviceOut;
            this.copied = copied;
            this.done = done;
        }
    }

    TilePipeline(CudaDriver driver, CudaSettings settings) {
        this.settings = settings;
        try {
            copies = own(driver.createStream());
            compute = own(driver.createStream());
            nonFinite = own(driver.allocate(4));
            slots = new Slot[settings.slots()];
            int outBytes = 4 * settings.tileCoords();
            for (int s = 0; s < slots.length; s++) {
                slots[s] = new Slot(own(driver.allocatePinned(settings.slotBytes())), own(driver.allocate(settings.slotBytes())),
                        own(driver.allocatePinned(outBytes)), own(driver.allocate(outBytes)),
                        own(driver.createEvent()), own(driver.createEvent()));
            }
            collected = new float[settings.tileCoords()];
        } catch (RuntimeException | Error e) {
            close();
            throw e;
        }
    }

    private <T extends AutoCloseable> T own(T resource) {
        owned.add(resource);
        return resource;
    }

    /** Coordinates per tile when {@code rows} updates are read: the setting, or what fits a slot. */
    int width(int rows) {
        return Math.min(settings.tileCoords(), TileStager.widthFor(rows, settings.slotBytes()));
    }

    /** Enqueues a copy of {@code values} to {@code memory}, ahead of the next pass's kernels. */
    void upload(double[] values, DeviceMemory memory) {
        memory.write(values, compute);
    }

    /** Enqueues zeroing {@code memory}, ahead of the next pass's kernels. */
    void clear(DeviceMemory memory) {
        memory.clear(compute);
    }

    /**
     * Runs {@code work} on every tile of updates {@code rows} of {@code batch}, and returns once the
     * device has finished. When {@code out} is not null, each tile's {@code out} memory holds
     * {@code width} floats afterwards, which are written to {@code out} at the tile's coordinates.
     * Throws {@link org.murmur.kernels.api.InvalidInputException} naming the first NaN or infinity
     * when a kernel reports one.
     */
    void pass(UpdateBatch batch, int[] rows, TileWork work, FloatVector out) {
        int width = width(rows.length);
        if (width < 1) {
            throw new IllegalStateException("a staging slot of " + settings.slotBytes() + " bytes cannot hold one coordinate of "
                    + rows.length + " updates; raise slotBytes");
        }
        TileStager stager = new TileStager(batch, rows);
        long dimension = batch.dimension();
        long tiles = (dimension + width - 1) / width;
        boolean finished = false;
        try {
            nonFinite.clear(compute);
            for (long t = 0; t < tiles; t++) {
                Slot slot = slots[(int) (t % slots.length)];
                slot.done.synchronize();
                collect(slot, out);
                long start = t * width;
                int length = (int) Math.min(width, dimension - start);
                int bytes = stager.stage(start, length, slot.staging.buffer());
                slot.tile.copyFrom(slot.staging, bytes, copies);
                slot.copied.record(copies);
                compute.waitFor(slot.copied);
                work.enqueue(new DeviceTile(slot.tile, rows.length, length, slot.deviceOut, nonFinite, compute));
                if (out != null) {
                    slot.deviceOut.copyTo(slot.hostOut, 4L * length, compute);
                    slot.outStart = start;
                    slot.outLength = length;
                }
                slot.done.record(compute);
            }
            compute.synchronize();
            for (Slot slot : slots) {
                collect(slot, out);
            }
            finished = true;
        } finally {
            if (!finished) {
                abandon();
            }
        }
        int[] flag = new int[1];
        nonFinite.read(flag);
        if (flag[0] != 0) {
            stager.requireFinite();
            throw new CudaFailure("the device reported a NaN or an infinity that the host does not find in the same updates");
        }
    }

    /** Writes the output tile waiting in {@code slot}, if any, to {@code out}. */
    private void collect(Slot slot, FloatVector out) {
        if (slot.outStart < 0) {
            return;
        }
        slot.hostOut.buffer().duplicate().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(0, collected, 0, slot.outLength);
        out.put(slot.outStart, collected, 0, slot.outLength);
        slot.outStart = -1;
    }

    /** After a failed pass: waits for the device's queued work and forgets the pending outputs. */
    private void abandon() {
        for (Slot slot : slots) {
            slot.outStart = -1;
        }
        try {
            copies.synchronize();
            compute.synchronize();
        } catch (RuntimeException ignored) {
            // The pass is failing already; its own exception says why.
        }
    }

    @Override
    public void close() {
        for (int i = owned.size() - 1; i >= 0; i--) {
            try {
                owned.get(i).close();
            } catch (Exception ignored) {
                // Freeing is best effort: the context's release frees whatever is left.
            }
        }
        owned.clear();
    }
}
