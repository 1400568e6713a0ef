package org.murmur.bench.fl;

import java.io.IOException;

/**
 * Fashion-MNIST is not where it was looked for. The message says where that was, which Debian
 * package provides the data and the command that installs it.
 */
public final class FashionMnistMissingException extends IOException {
    private static final long serialVersionUID = 1L;

    /** The Debian package holding the four IDX files. */
    public static final String PACKAGE = "dataset-fashion-mnist";
    /** The command that installs {@link #PACKAGE} (as root). */
    public static final String INSTALL_COMMAND = "apt-get install " + PACKAGE;

    public FashionMnistMissingException(String whereLooked) {
        super("Fashion-MNIST not found (" + whereLooked + "). It comes with Debian's package " + PACKAGE
                + ": install it with `" + INSTALL_COMMAND + "` (as root), or pass the directory holding "
                + "its four IDX files (train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, "
                + "t10k-labels-idx1-ubyte, each optionally .gz)");
    }
}
