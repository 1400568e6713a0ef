package org.murmur.bench.fl;

import java.util.SplittableRandom;

/** Small learnable datasets for tests that must not depend on Fashion-MNIST being installed. */
final class Synthetic {
    private Synthetic() {
    }

    /**
     * {@code n} samples of {@code features} bytes in {@code classes} classes: each class has a
     * random prototype, and a sample is its class's prototype plus uniform noise of ±40, clipped.
     * About half the prototype bytes are 0, like the background of an image.
     */
    static Dataset blobs(int n, int features, int classes, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        int[][] prototypes = new int[classes][features];
        for (int[] prototype : prototypes) {
            for (int k = 0; k < features; k++) {
                prototype[k] = random.nextBoolean() ? 0 : random.nextInt(256);
            }
        }
        byte[] pixels = new byte[n * features];
        byte[] labels = new byte[n];
        for (int i = 0; i < n; i++) {
            int label = random.nextInt(classes);
            labels[i] = (byte) label;
            for (int k = 0; k < features; k++) {
                int value = prototypes[label][k] == 0 ? 0 : prototypes[label][k] + random.nextInt(-40, 41);
                pixels[i * features + k] = (byte) Math.max(0, Math.min(255, value));
            }
        }
        return Dataset.of(pixels, labels, features);
    }
}
