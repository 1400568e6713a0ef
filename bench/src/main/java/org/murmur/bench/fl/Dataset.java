package org.murmur.bench.fl;

import java.util.Objects;
import java.util.function.IntUnaryOperator;

/**
 * Labelled samples of {@code features} unsigned-byte values each, exposed as floats in [0, 1]
 * (the byte divided by 255). Kept as bytes, a quarter of the memory of floats; the conversion is
 * exact and the same on every call. Immutable: the arrays are copied in and never handed out.
 */
public final class Dataset {
    /** {@code SCALED[b] == b / 255f}, correctly rounded, for every byte value b. */
    private static final float[] SCALED = new float[256];

    static {
        for (int b = 0; b < SCALED.length; b++) {
            SCALED[b] = b / 255f;
        }
    }

    private final byte[] pixels;
    private final byte[] labels;
    private final int features;

    private Dataset(byte[] pixels, byte[] labels, int features) {
        this.pixels = pixels;
        this.labels = labels;
        this.features = features;
    }

    /**
     * @param pixels   sample i's features at {@code [i * features, (i + 1) * features)}
     * @param labels   one label per sample, each in [0, 127]
     * @param features features per sample, at least 1
     */
    public static Dataset of(byte[] pixels, byte[] labels, int features) {
        Objects.requireNonNull(pixels, "pixels");
        Objects.requireNonNull(labels, "labels");
        if (features < 1) {
            throw new IllegalArgumentException("features must be at least 1, was " + features);
        }
        if ((long) labels.length * features != pixels.length) {
            throw new IllegalArgumentException(labels.length + " labels of " + features + " features need "
                    + (long) labels.length * features + " pixels, got " + pixels.length);
        }
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0) {
                throw new IllegalArgumentException("label " + i + " is " + (labels[i] & 0xFF) + ", above 127");
            }
        }
        return new Dataset(pixels.clone(), labels.clone(), features);
    }

    public int size() {
        return labels.length;
    }

    public int features() {
        return features;
    }

    public int label(int sample) {
        return labels[sample];
    }

    /** Writes sample {@code sample}'s features, scaled to [0, 1], to {@code out[offset...]}. */
    public void copyFeatures(int sample, float[] out, int offset) {
        Objects.checkIndex(sample, labels.length);
        int from = sample * features;
        for (int k = 0; k < features; k++) {
            out[offset + k] = SCALED[pixels[from + k] & 0xFF];
        }
    }

    /** The samples at {@code indices}, in that order (repeats allowed). */
    public Dataset subset(int[] indices) {
        byte[] subPixels = new byte[indices.length * features];
        byte[] subLabels = new byte[indices.length];
        for (int i = 0; i < indices.length; i++) {
            int sample = Objects.checkIndex(indices[i], labels.length);
            System.arraycopy(pixels, sample * features, subPixels, i * features, features);
            subLabels[i] = labels[sample];
        }
        return new Dataset(subPixels, subLabels, features);
    }

    /** The same samples with each label {@code y} replaced by {@code relabel(y)}, which must stay in [0, 127]. */
    public Dataset relabelled(IntUnaryOperator relabel) {
        byte[] mapped = new byte[labels.length];
        for (int i = 0; i < labels.length; i++) {
            int y = relabel.applyAsInt(labels[i]);
            if (y < 0 || y > Byte.MAX_VALUE) {
                throw new IllegalArgumentException("label " + labels[i] + " maps to " + y + ", outside [0, 127]");
            }
            mapped[i] = (byte) y;
        }
        return new Dataset(pixels, mapped, features);
    }

    /** How many samples carry each label in [0, classes); a label outside it is an error. */
    public int[] labelCounts(int classes) {
        int[] counts = new int[classes];
        for (byte label : labels) {
            if (label >= classes) {
                throw new IllegalArgumentException("label " + label + " is not below " + classes);
            }
            counts[label]++;
        }
        return counts;
    }
}
