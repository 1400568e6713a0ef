package org.murmur.bench.fl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.util.Arrays;

import org.junit.jupiter.api.Test;

/** The installed dataset, where there is one; skipped with the install command where there is not. */
class FashionMnistInstalledTest {

    @Test
    void loadsSixtyThousandTrainingAndTenThousandTestImages() throws IOException {
        FashionMnist data = RealData.fashionMnist();
        assertEquals(60_000, data.train().size());
        assertEquals(10_000, data.test().size());
        int[] trainCounts = new int[FashionMnist.CLASSES];
        Arrays.fill(trainCounts, 6_000);
        assertArrayEquals(trainCounts, data.train().labelCounts(FashionMnist.CLASSES));
        int[] testCounts = new int[FashionMnist.CLASSES];
        Arrays.fill(testCounts, 1_000);
        assertArrayEquals(testCounts, data.test().labelCounts(FashionMnist.CLASSES));
    }
}
