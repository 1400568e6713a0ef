package org.murmur.kernels.cuda;

import static org.junit.platform.engine.discovery.ClassNameFilter.includeClassNamePatterns;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectPackage;

import java.io.PrintWriter;
import java.util.Map;
import java.util.TreeMap;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.support.descriptor.MethodSource;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;
import org.junit.platform.launcher.listeners.TestExecutionSummary;

/**
 * Runs the tests of this package (the CUDA contract suites and the rest) without Maven, on a GPU
 * machine that has only the bundle bench/gpu-check.sh prepares, and prints the failures, the
 * totals, a line per suite and the probe's answer. Exits 0 only when CUDA was available and
 * nothing failed.
 */
public final class GpuCheck {
    private GpuCheck() {
    }

    /** Passed, failed and skipped tests of one suite. */
    private static final class Counts {
        int passed;
        int failed;
        int skipped;
    }

    public static void main(String[] args) {
        Map<String, Counts> suites = new TreeMap<>();
        TestExecutionListener perSuite = new TestExecutionListener() {
            @Override
            public void executionFinished(TestIdentifier test, TestExecutionResult result) {
                if (test.isTest()) {
                    Counts counts = suites.computeIfAbsent(suite(test), s -> new Counts());
                    switch (result.getStatus()) {
                        case SUCCESSFUL -> counts.passed++;
                        case ABORTED -> counts.skipped++;
                        case FAILED -> counts.failed++;
                    }
                }
            }

            @Override
            public void executionSkipped(TestIdentifier test, String reason) {
                suites.computeIfAbsent(suite(test), s -> new Counts()).skipped++;
            }
        };
        SummaryGeneratingListener summary = new SummaryGeneratingListener();
        LauncherDiscoveryRequest request = LauncherDiscoveryRequestBuilder.request()
                .selectors(selectPackage(GpuCheck.class.getPackageName()))
                .filters(includeClassNamePatterns(".*Test"))
                .build();
        LauncherFactory.create().execute(request, perSuite, summary);

        // Failures first and the totals last, so that the end of the output, what a short tail keeps, says the most.
        TestExecutionSummary result = summary.getSummary();
        PrintWriter out = new PrintWriter(System.out, true);
        result.printFailuresTo(out, 8);
        result.printTo(out);
        suites.forEach((suite, c) -> System.out.printf("%-28s %4d passed %4d failed %4d skipped%n", suite, c.passed, c.failed, c.skipped));
        System.out.println("cuda: " + (CudaProbe.available() ? "available on " : "UNAVAILABLE: ") + CudaProbe.description());
        System.exit(CudaProbe.available() && result.getTotalFailureCount() == 0 ? 0 : 1);
    }

    private static String suite(TestIdentifier test) {
        return test.getSource().filter(MethodSource.class::isInstance).map(s -> ((MethodSource) s).getClassName())
                .map(name -> name.substring(name.lastIndexOf('.') + 1)).orElse(test.getDisplayName());
    }
}
