package org.murmur.kernels.cuda;

/**
 * How the CUDA backend stages and bounds its work; checked once, at construction, with the name
 * of the setting at fault.
 *
 * @param tileCoords        the most coordinates per tile (fewer when that many would not fit a
 *                          slot for every update of a batch)
 * @param slotBytes         bytes of each pinned staging slot and of its twin on the device
 * @param slots             slots in the staging ring: at least 2, so that one tile is copied while
 *                          the previous one is computed on
 * @param deviceBudgetBytes the most device memory the backend allocates: the ring, each slot's
 *                          output tile, and the scratch of a pass (distances, norms)
 */
public record CudaSettings(int tileCoords, int slotBytes, int slots, long deviceBudgetBytes) {
    public static final int DEFAULT_TILE_COORDS = 1 << 20;
    public static final int DEFAULT_SLOT_BYTES = 64 << 20;
    public static final int DEFAULT_SLOTS = 4;
    public static final long DEFAULT_DEVICE_BUDGET_BYTES = 2L << 30;
    /** The largest tile: its output, 4 bytes a coordinate, must fit one pinned buffer. */
    public static final int MAXIMUM_TILE_COORDS = 1 << 28;
    /** The smallest slot: the descriptor and one aligned row of a single update. */
    public static final int MINIMUM_SLOT_BYTES = 2 * TileStager.ALIGNMENT;

    public CudaSettings {
        if (tileCoords < 1 || tileCoords > MAXIMUM_TILE_COORDS) {
            throw new IllegalArgumentException("tileCoords must be in [1, " + MAXIMUM_TILE_COORDS + "], got " + tileCoords);
        }
        if (slotBytes < MINIMUM_SLOT_BYTES) {
            throw new IllegalArgumentException("slotBytes must be >= " + MINIMUM_SLOT_BYTES + ", got " + slotBytes);
        }
        if (slots < 2) {
            throw new IllegalArgumentException("slots must be >= 2, got " + slots);
        }
        long ring = ringBytes(tileCoords, slotBytes, slots);
        if (deviceBudgetBytes < ring) {
            throw new IllegalArgumentException("deviceBudgetBytes (" + deviceBudgetBytes + ") must hold the staging ring of "
                    + slots + " slots of " + slotBytes + " bytes plus their output tiles of " + tileCoords
                    + " floats: " + ring + " bytes");
        }
    }

    public static CudaSettings defaults() {
        return new CudaSettings(DEFAULT_TILE_COORDS, DEFAULT_SLOT_BYTES, DEFAULT_SLOTS, DEFAULT_DEVICE_BUDGET_BYTES);
    }

    /** Device (and pinned host) bytes the staging ring takes, output tiles included. */
    public long ringBytes() {
        return ringBytes(tileCoords, slotBytes, slots);
    }

    private static long ringBytes(int tileCoords, int slotBytes, int slots) {
        return (long) slots * (slotBytes + 4L * tileCoords);
    }
}
