package org.murmur.bench.fl;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Fashion-MNIST's training set (60,000 images) and test set (10,000), as loaded from its four IDX
 * files: 28x28 images, labels 0-9. The files come from Debian's package dataset-fashion-mnist,
 * found through {@code dpkg -L} or at its usual place, or from a directory given explicitly; each
 * file may be plain or gzip-compressed. Every file is checked strictly, and every error names it.
 */
public record FashionMnist(Dataset train, Dataset test) {
    /** Image side, in pixels. */
    public static final int SIDE = 28;
    /** Features per image: 28 x 28 pixels. */
    public static final int PIXELS = SIDE * SIDE;
    /** Number of classes; labels are 0 to 9. */
    public static final int CLASSES = 10;
    /** Where dataset-fashion-mnist puts the files. */
    public static final Path DEBIAN_DIRECTORY = Path.of("/usr/share/datasets/fashion-mnist");

    private static final String TRAIN_IMAGES = "train-images-idx3-ubyte";
    private static final String TRAIN_LABELS = "train-labels-idx1-ubyte";
    private static final String TEST_IMAGES = "t10k-images-idx3-ubyte";
    private static final String TEST_LABELS = "t10k-labels-idx1-ubyte";

    /** Loads the files of the installed package. */
    public static FashionMnist load() throws IOException {
        return load(locate());
    }

    /** Loads the four files from {@code directory}. */
    public static FashionMnist load(Path directory) throws IOException {
        return new FashionMnist(
                read(file(directory, TRAIN_IMAGES), file(directory, TRAIN_LABELS)),
                read(file(directory, TEST_IMAGES), file(directory, TEST_LABELS)));
    }

    /**
     * The directory of the installed package's files: where {@code dpkg -L dataset-fashion-mnist}
     * lists them, else {@link #DEBIAN_DIRECTORY}.
     *
     * @throws FashionMnistMissingException if neither holds all four files
     */
    public static Path locate() throws FashionMnistMissingException {
        List<Path> candidates = new ArrayList<>(listedByDpkg());
        if (!candidates.contains(DEBIAN_DIRECTORY)) {
            candidates.add(DEBIAN_DIRECTORY);
        }
        for (Path directory : candidates) {
            if (holdsAll(directory)) {
                return directory;
            }
        }
        throw new FashionMnistMissingException("looked where `dpkg -L " + FashionMnistMissingException.PACKAGE
                + "` lists its files and in " + candidates);
    }

    private static boolean holdsAll(Path directory) {
        for (String name : List.of(TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS)) {
            if (!Files.isRegularFile(directory.resolve(name)) && !Files.isRegularFile(directory.resolve(name + ".gz"))) {
                return false;
            }
        }
        return true;
    }

    /** Directories holding a training-image file among the package's files; empty when dpkg cannot tell. */
    private static List<Path> listedByDpkg() {
        List<Path> directories = new ArrayList<>();
        try {
            Process dpkg = new ProcessBuilder("dpkg", "-L", FashionMnistMissingException.PACKAGE)
                    .redirectError(ProcessBuilder.Redirect.DISCARD)
                    .start();
            String listing;
            try (InputStream out = dpkg.getInputStream()) {
                listing = new String(out.readAllBytes(), StandardCharsets.UTF_8);
            }
            if (!dpkg.waitFor(10, TimeUnit.SECONDS) || dpkg.exitValue() != 0) {
                dpkg.destroy();
                return directories;
            }
            for (String line : listing.split("\n")) {
                Path path = Path.of(line.strip());
                String name = String.valueOf(path.getFileName());
                if ((name.equals(TRAIN_IMAGES) || name.equals(TRAIN_IMAGES + ".gz")) && path.getParent() != null
                        && !directories.contains(path.getParent())) {
                    directories.add(path.getParent());
                }
            }
        } catch (IOException noDpkg) {
            // Not a Debian system, or dpkg is not on the PATH: the usual place is still tried.
        } catch (InterruptedException interrupted) {
            Thread.currentThread().interrupt();
        }
        return directories;
    }

    private static Path file(Path directory, String name) throws FashionMnistMissingException {
        for (Path candidate : List.of(directory.resolve(name), directory.resolve(name + ".gz"))) {
            if (Files.isRegularFile(candidate)) {
                return candidate;
            }
        }
        throw new FashionMnistMissingException("no " + name + " or " + name + ".gz in " + directory);
    }

    private static Dataset read(Path imagesFile, Path labelsFile) throws IOException {
        IdxFile images = IdxFile.read(imagesFile, 3);
        int[] shape = images.dimensions();
        if (shape[1] != SIDE || shape[2] != SIDE) {
            throw new IdxFormatException(imagesFile, "images are " + shape[1] + "x" + shape[2] + ", not "
                    + SIDE + "x" + SIDE);
        }
        IdxFile labels = IdxFile.read(labelsFile, 1);
        if (labels.dimensions()[0] != shape[0]) {
            throw new IdxFormatException(labelsFile, labels.dimensions()[0] + " labels for the " + shape[0]
                    + " images of " + imagesFile);
        }
        byte[] values = labels.data();
        for (int i = 0; i < values.length; i++) {
            if ((values[i] & 0xFF) >= CLASSES) {
                throw new IdxFormatException(labelsFile, "label " + i + " is " + (values[i] & 0xFF)
                        + ", not below " + CLASSES);
            }
        }
        return Dataset.of(images.data(), values, PIXELS);
    }
}
