package org.murmur.kernels.testing;

import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.TestWatcher;

/**
 * Prints the base seed when a test fails, whatever the failure (an assertion without the seed in
 * its message, an unexpected exception from a backend), so every failure can be rerun.
 */
public final class SeedReporter implements TestWatcher {
    @Override
    public void testFailed(ExtensionContext context, Throwable cause) {
        System.err.println("FAILED " + context.getDisplayName() + " in " + context.getRequiredTestClass().getName()
                + " with base seed " + SeededRandom.baseSeed() + "; rerun with -D" + SeededRandom.PROPERTY + "="
                + SeededRandom.baseSeed());
    }
}
