package org.murmur.bench.fl;

import java.io.IOException;

import org.junit.jupiter.api.Assumptions;

/** Fashion-MNIST for tests, loaded once; a test that needs it is skipped, saying why, when it is not installed. */
public final class RealData {
    private static FashionMnist loaded;

    private RealData() {
    }

    public static synchronized FashionMnist fashionMnist() throws IOException {
        if (loaded == null) {
            try {
                loaded = FashionMnist.load();
            } catch (FashionMnistMissingException e) {
                Assumptions.abort("skipped: " + e.getMessage());
            }
        }
        return loaded;
    }
}
