package org.murmur.bench.fl;

import java.util.Arrays;
import java.util.List;

/**
 * Scratch space for up to {@code capacity} samples of one model shape, and the forward and
 * backward passes over them. Every matrix loop is an axpy over whole rows, each row an array of
 * its own: that is the form C2 (JDK 17) turns into SIMD code, which it does not for rows at
 * different offsets of one flat array. Zero inputs (about half of a Fashion-MNIST image) are
 * skipped. Not thread-safe: one per thread.
 */
final class Batch {
    private final int inputs;
    private final int hidden;
    private final int classes;
    /** Inputs, one row per sample. */
    final float[][] x;
    final int[] y;
    /** Hidden activations after the ReLU, one row per sample. */
    private final float[][] a1;
    /** Class probabilities, then (in the backward pass) the gradient of the loss at the logits. */
    private final float[][] out;
    /** Gradient of the loss at the hidden layer, one row per sample. */
    private final float[][] da1;
    /** Gradients of the batch's mean loss, shaped as the model's parameters. */
    final float[][] gw1t;
    final float[] gb1;
    final float[][] gw2;
    final float[] gb2;
    int size;

    Batch(int inputs, int hidden, int classes, int capacity) {
        this.inputs = inputs;
        this.hidden = hidden;
        this.classes = classes;
        x = new float[capacity][inputs];
        y = new int[capacity];
        a1 = new float[capacity][hidden];
        out = new float[capacity][classes];
        da1 = new float[capacity][hidden];
        gw1t = new float[inputs][hidden];
        gb1 = new float[hidden];
        gw2 = new float[classes][hidden];
        gb2 = new float[classes];
    }

    static Batch forModel(Mlp model, int capacity) {
        return new Batch(model.inputs(), model.hidden(), model.classes(), capacity);
    }

    /** Loads samples {@code order[from]} to {@code order[from + count - 1]} of {@code data}. */
    void load(Dataset data, int[] order, int from, int count) {
        if (count > x.length) {
            throw new IllegalArgumentException(count + " samples exceed the batch capacity " + x.length);
        }
        for (int b = 0; b < count; b++) {
            int sample = order[from + b];
            data.copyFeatures(sample, x[b], 0);
            int label = data.label(sample);
            if (label >= classes) {
                throw new IllegalArgumentException("sample " + sample + " has label " + label
                        + ", but the model has " + classes + " classes");
            }
            y[b] = label;
        }
        size = count;
    }

    /** Computes the class probabilities and returns the summed cross-entropy of the batch. */
    double forward(Mlp m) {
        double loss = 0;
        for (int b = 0; b < size; b++) {
            float[] xb = x[b];
            float[] hb = a1[b];
            System.arraycopy(m.b1, 0, hb, 0, hidden);
            for (int k = 0; k < inputs; k++) {
                float xv = xb[k];
                if (xv != 0f) {
                    float[] w = m.w1t[k];
                    for (int j = 0; j < hidden; j++) {
                        hb[j] += xv * w[j];
                    }
                }
            }
            for (int j = 0; j < hidden; j++) {
                hb[j] = Math.max(hb[j], 0f);
            }
            float[] ob = out[b];
            float max = Float.NEGATIVE_INFINITY;
            for (int o = 0; o < classes; o++) {
                ob[o] = m.b2[o] + dot(hb, m.w2[o]);
                max = Math.max(max, ob[o]);
            }
            float target = ob[y[b]];
            float sum = 0;
            for (int o = 0; o < classes; o++) {
                ob[o] = (float) Math.exp(ob[o] - max);
                sum += ob[o];
            }
            for (int o = 0; o < classes; o++) {
                ob[o] /= sum;
            }
            loss += Math.log(sum) - (target - max);
        }
        return loss;
    }

    /** Four independent sums, so the additions overlap rather than wait on one another. */
    private static float dot(float[] a, float[] b) {
        float s0 = 0;
        float s1 = 0;
        float s2 = 0;
        float s3 = 0;
        int n = a.length;
        int i = 0;
        for (; i + 3 < n; i += 4) {
            s0 += a[i] * b[i];
            s1 += a[i + 1] * b[i + 1];
            s2 += a[i + 2] * b[i + 2];
            s3 += a[i + 3] * b[i + 3];
        }
        for (; i < n; i++) {
            s0 += a[i] * b[i];
        }
        return (s0 + s1) + (s2 + s3);
    }

    /** How many samples' most probable class is their label; call after {@link #forward}. */
    int correct() {
        int correct = 0;
        for (int b = 0; b < size; b++) {
            float[] ob = out[b];
            int best = 0;
            for (int o = 1; o < classes; o++) {
                if (ob[o] > ob[best]) {
                    best = o;
                }
            }
            correct += best == y[b] ? 1 : 0;
        }
        return correct;
    }

    /** Fills the gradients of the batch's mean loss; call after {@link #forward}. */
    void backward(Mlp m) {
        float scale = 1f / size;
        Arrays.fill(gb1, 0f);
        Arrays.fill(gb2, 0f);
        for (float[] row : gw2) {
            Arrays.fill(row, 0f);
        }
        for (float[] row : gw1t) {
            Arrays.fill(row, 0f);
        }
        for (int b = 0; b < size; b++) {
            float[] ob = out[b];
            float[] hb = a1[b];
            float[] db = da1[b];
            ob[y[b]] -= 1f;
            Arrays.fill(db, 0f);
            for (int o = 0; o < classes; o++) {
                float g = ob[o] * scale;
                gb2[o] += g;
                float[] gw = gw2[o];
                float[] w = m.w2[o];
                for (int j = 0; j < hidden; j++) {
                    gw[j] += g * hb[j];
                }
                for (int j = 0; j < hidden; j++) {
                    db[j] += g * w[j];
                }
            }
            for (int j = 0; j < hidden; j++) {
                db[j] = hb[j] > 0f ? db[j] : 0f;
                gb1[j] += db[j];
            }
            float[] xb = x[b];
            for (int k = 0; k < inputs; k++) {
                float xv = xb[k];
                if (xv != 0f) {
                    float[] gw = gw1t[k];
                    for (int j = 0; j < hidden; j++) {
                        gw[j] += xv * db[j];
                    }
                }
            }
        }
    }

    /** The gradients in the order of {@link Mlp#rows()}. */
    List<float[]> gradientRows() {
        return Mlp.parameterRows(gw1t, gb1, gw2, gb2);
    }
}
