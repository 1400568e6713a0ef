package org.murmur.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.murmur.kernels.testing.ReferenceBackend;
import org.murmur.kernels.testing.SeededRandom;

/** denseLayer: y = act(x W^T + b), the building block of server-side evaluation. */
public abstract class DenseLayerContract extends AggregationContract {

    @Test
    void goldenLayerWithAndWithoutRelu() {
        // W = [[1, 2], [-1, 0], [0.5, 0.5]], b = [0, 1, -10]; x = [[3, 4], [-1, 1]].
        // Row 0: [11, -2, -6.5]; row 1: [1, 2, -10].
        float[] w = {1, 2, -1, 0, 0.5f, 0.5f};
        float[] b = {0, 1, -10};
        float[] x = {3, 4, -1, 1};
        float[] y = new float[6];
        backendFor(2, SMALL_TILE).denseLayer(w, b, 3, 2, x, 2, y, false);
        assertArrayEquals(new float[] {11, -2, -6.5f, 1, 2, -10}, y);
        backendFor(2, SMALL_TILE).denseLayer(w, b, 3, 2, x, 2, y, true);
        assertArrayEquals(new float[] {11, 0, 0, 1, 2, 0}, y);
    }

    @ParameterizedTest(name = "{0} rows, {1} -> {2}")
    @CsvSource({"1, 1, 1", "3, 7, 5", "17, 784, 10", "64, 33, 129"})
    void matchesTheDefinition(int rows, int in, int out) {
        SeededRandom random = SeededRandom.forCase("dense " + rows + "x" + in + "->" + out);
        float[] w = fill(random, out * in);
        float[] b = fill(random, out);
        float[] x = fill(random, rows * in);
        float[] expected = new float[rows * out];
        float[] actual = new float[rows * out];
        new ReferenceBackend().denseLayer(w, b, out, in, x, rows, expected, true);
        backendFor(2, SMALL_TILE).denseLayer(w, b, out, in, x, rows, actual, true);
        for (int j = 0; j < expected.length; j++) {
            assertEquals(expected[j], actual[j], 1e-5f * Math.max(1, Math.abs(expected[j])), random.where() + " y[" + j
                    + "]");
        }
    }

    @Test
    void buffersTooSmallAreRefused() {
        float[] y = new float[2];
        assertThrows(IllegalArgumentException.class,
                () -> backendFor(2, SMALL_TILE).denseLayer(new float[3], new float[2], 2, 2, new float[2], 1, y, false));
    }

    private static float[] fill(SeededRandom random, int count) {
        float[] values = new float[count];
        for (int i = 0; i < count; i++) {
            values[i] = (float) random.uniform(-1, 1);
        }
        return values;
    }
}
