package org.murmur.kernels.cpu;

import org.murmur.kernels.GeoMedianContract;
import org.murmur.kernels.api.Backend;

/** The GeoMedianContract suite on the CPU backend. */
class CpuGeoMedianTest extends GeoMedianContract {
    @Override
    protected Backend backend(int threads, int tileCoords) {
        return new CpuBackend(threads, tileCoords);
    }
}
