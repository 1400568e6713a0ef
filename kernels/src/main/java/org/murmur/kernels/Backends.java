package org.murmur.kernels;

import java.util.Locale;
import org.murmur.kernels.api.Backend;
import org.murmur.kernels.api.BackendUnavailableException;
import org.murmur.kernels.api.InvalidInputException;
import org.murmur.kernels.cpu.CpuBackend;
import org.murmur.kernels.cuda.CudaBackend;
import org.murmur.kernels.cuda.CudaProbe;

/**
 * Chooses a backend by name: {@code cpu}, {@code cuda}, or {@code auto} (CUDA where it loads, the
 * CPU otherwise; never throws). An explicit {@code cuda} that cannot run fails fast with the reason.
 */
public final class Backends {
    /** The names {@link #open} accepts. */
    public static final String CHOICES = "auto, cpu, cuda";

    private static final System.Logger LOG = System.getLogger(Backends.class.getName());

    private Backends() {
    }

    public static Backend open(String choice) {
        switch (choice.toLowerCase(Locale.ROOT)) {
            case "cpu":
                return new CpuBackend();
            case "auto":
                return CudaProbe.available() ? cudaOrCpu() : new CpuBackend();
            case "cuda":
                return CudaBackend.open();
            default:
                throw new InvalidInputException("unknown backend '" + choice + "'; choose one of " + CHOICES);
        }
    }

    /** The CUDA backend, or the CPU one when the device probed fine but cannot be opened now. */
    private static Backend cudaOrCpu() {
        try {
            return CudaBackend.open();
        } catch (BackendUnavailableException | IllegalStateException e) {
            LOG.log(System.Logger.Level.WARNING, "the cuda backend did not open, aggregating on the CPU: " + e.getMessage());
            return new CpuBackend();
        }
    }
}
