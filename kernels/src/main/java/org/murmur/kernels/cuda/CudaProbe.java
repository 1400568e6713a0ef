package org.murmur.kernels.cuda;

/**
 * Whether the CUDA backend can run in this JVM and, if not, why. The probe runs once, on first
 * use, and never throws: it checks that this build has kernels, loads JCuda's driver library,
 * finds device 0 and has the driver load the kernels. A failed native load throws {@link
 * UnsatisfiedLinkError} once and {@link NoClassDefFoundError} on every later touch, so the outcome
 * is remembered and nothing touches JCuda again after a failure. Thread-safe.
 */
public final class CudaProbe {
    /** Why the backend is unavailable in a build made without nvcc. */
    public static final String NO_KERNELS = "this build has no CUDA kernels: nvcc was not on the PATH";

    private CudaProbe() {
    }

    private record Outcome(boolean available, String description) {
    }

    private static final class Once {
        static final Outcome OUTCOME = probe();
    }

    /** True when a CUDA backend can be opened here. */
    public static boolean available() {
        return Once.OUTCOME.available();
    }

    /**
     * One line: the device (name, compute capability, memory, driver) when {@link #available},
     * otherwise the reason the backend cannot run.
     */
    public static String description() {
        return Once.OUTCOME.description();
    }

    private static Outcome probe() {
        try {
            byte[] fatbin = CudaKernels.fatbin();
            if (fatbin == null) {
                return new Outcome(false, NO_KERNELS);
            }
            try (CudaDriver driver = CudaDriver.open(fatbin)) {
                return new Outcome(true, driver.description());
            }
        } catch (Throwable t) {
            return new Outcome(false, reason(t));
        }
    }

    private static String reason(Throwable t) {
        if (t instanceof CudaFailure) {
            return "CUDA is not usable here: " + t.getMessage();
        }
        if (t instanceof LinkageError) {
            return "the JCuda driver library did not load (it needs libcuda.so.1, the NVIDIA driver): " + linkFailure(t);
        }
        return "probing CUDA failed: " + t;
    }

    /**
     * The line that says why a native library did not load. JCuda's message holds a stack trace
     * per attempt; the last attempt's error names the missing library.
     */
    private static String linkFailure(Throwable t) {
        String message = t.getMessage() == null ? t.toString() : t.getMessage();
        String prefix = UnsatisfiedLinkError.class.getName() + ": ";
        String why = message.lines().findFirst().orElse(message);
        for (String line : message.lines().toList()) {
            if (line.startsWith(prefix)) {
                why = line.substring(prefix.length());
            }
        }
        return why.strip();
    }
}
