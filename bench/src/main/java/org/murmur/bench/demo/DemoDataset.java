package org.murmur.bench.demo;

import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.murmur.bench.fl.FashionMnist;
import org.murmur.bench.fl.FashionMnistMissingException;

/**
 * Finds Fashion-MNIST for the demo: in the directory given, else where Debian's package puts it.
 * When the package is missing and this process runs as root with apt-get at hand, it installs the
 * package (as the README's set-up would) and carries on; otherwise the
 * {@link FashionMnistMissingException} says what to run.
 */
final class DemoDataset {
    private DemoDataset() {
    }

    static FashionMnist load(Optional<Path> directory, PrintStream log) throws IOException, InterruptedException {
        if (directory.isPresent()) {
            return FashionMnist.load(directory.get());
        }
        try {
            return FashionMnist.load();
        } catch (FashionMnistMissingException missing) {
            if (!isRoot() || !onPath("apt-get")) {
                throw missing;
            }
        }
        log.println("murmur demo: Fashion-MNIST is not installed; installing Debian's package "
                + FashionMnistMissingException.PACKAGE + " with apt-get");
        // The package lists of a fresh container are often empty: update them when the first try fails.
        if (aptGet(log, "install", "-y", "-q", FashionMnistMissingException.PACKAGE) != 0
                && (aptGet(log, "update", "-q") != 0
                || aptGet(log, "install", "-y", "-q", FashionMnistMissingException.PACKAGE) != 0)) {
            throw new FashionMnistMissingException("apt-get could not install it; its output is above");
        }
        return FashionMnist.load();
    }

    private static int aptGet(PrintStream log, String... arguments) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("apt-get"));
        command.addAll(List.of(arguments));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().put("DEBIAN_FRONTEND", "noninteractive");
        Process process = builder.start();
        process.getInputStream().transferTo(log);
        return process.waitFor();
    }

    private static boolean isRoot() {
        try {
            return Integer.valueOf(0).equals(Files.getAttribute(Path.of("/proc/self"), "unix:uid"));
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return false; // not Linux: installing is not this program's business there
        }
    }

    private static boolean onPath(String program) {
        String path = System.getenv("PATH");
        if (path == null) {
            return false;
        }
        for (String directory : path.split(File.pathSeparator)) {
            if (!directory.isEmpty() && Files.isExecutable(Path.of(directory, program))) {
                return true;
            }
        }
        return false;
    }
}
