package org.murmur.kernels.cpu;

/** Work done on one filled tile; adds its share of a pass's reduction into {@code partial}. */
@FunctionalInterface
interface TileTask {
    void process(Tile tile, double[] partial);
}
