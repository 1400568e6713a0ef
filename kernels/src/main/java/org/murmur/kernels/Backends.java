package org.murmur.kernels;

import java.util.Locale;
import org.murmur.kernels.api.Backend;
import org.murmur.kernels.api.BackendUnavailableException;
import org.murmur.kernels.api.InvalidInputException;
import org.murmur.kernels.cpu.CpuBackend;

/**
 * Chooses a backend by name: {@code cpu}, {@code cuda}, or {@code auto} (CUDA where it loads, the
 * CPU otherwise; never throws). An explicit {@code cuda} that cannot run fails fast with the reason.
 */
public final class Backends {
    /** The names {@link #open} accepts. */
    public static final String CHOICES = "auto, cpu, cuda";

    private Backends() {
    }

    public static Backend open(String choice) {
        switch (choice.toLowerCase(Locale.ROOT)) {
            case "cpu":
            case "auto":
                return new CpuBackend();
            case "cuda":
                throw new BackendUnavailableException("the CUDA backend is not part of this build yet; use --backend cpu or auto");
            default:
                throw new InvalidInputException("unknown backend '" + choice + "'; choose one of " + CHOICES);
        }
    }
}
