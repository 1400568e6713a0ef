package org.murmur.kernels.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.murmur.kernels.Backends;
import org.murmur.kernels.api.Backend;
import org.murmur.kernels.api.BackendUnavailableException;

/**
 * The probe and the backend choice: the probe never throws and always explains itself in one line;
 * where CUDA cannot run, {@code cuda} fails fast with that reason and {@code auto} is the CPU; where
 * it can, both open the device.
 */
class CudaProbeTest {

    @Test
    void theProbeAnswersInOneLine() {
        String description = CudaProbe.description();
        assertFalse(description.isBlank(), "the probe says something");
        assertFalse(description.contains("\n"), () -> "one line: " + description);
        assertEquals(CudaProbe.available(), CudaProbe.available(), "asking again gives the same answer");
    }

    @Test
    void withoutCudaAnExplicitCudaFailsFastWithTheReason() {
        Assumptions.assumeFalse(CudaProbe.available(), () -> "CUDA runs here: " + CudaProbe.description());
        BackendUnavailableException e = assertThrows(BackendUnavailableException.class, () -> Backends.open("cuda"));
        assertTrue(e.getMessage().contains(CudaProbe.description()), e::getMessage);
        assertThrows(BackendUnavailableException.class, CudaBackend::open, "asking twice fails the same way");
    }

    @Test
    void withoutCudaAutoIsTheCpu() {
        Assumptions.assumeFalse(CudaProbe.available(), () -> "CUDA runs here: " + CudaProbe.description());
        try (Backend backend = Backends.open("auto")) {
            assertEquals("cpu", backend.name());
        }
    }

    @Test
    void aBuildWithKernelsShipsThemAndSaysWhyTheyCannotRun() {
        Assumptions.assumeTrue(CudaKernels.fatbin() != null, CudaProbe.NO_KERNELS);
        Assumptions.assumeFalse(CudaProbe.available(), () -> "CUDA runs here: " + CudaProbe.description());
        assertFalse(CudaProbe.description().equals(CudaProbe.NO_KERNELS), CudaProbe::description);
    }

    @Test
    void withCudaAutoAndCudaOpenTheDevice() {
        Assumptions.assumeTrue(CudaProbe.available(), () -> "no CUDA here: " + CudaProbe.description());
        try (Backend auto = Backends.open("auto"); Backend cuda = Backends.open("cuda")) {
            assertEquals("cuda", auto.name());
            assertEquals("cuda", cuda.name());
        }
    }
}
