package org.murmur.server.round;

import java.nio.file.Path;
import java.util.List;
import org.murmur.kernels.api.Backend;
import org.murmur.kernels.api.UpdateBatch;
import org.murmur.server.model.DenseClassifierShape;
import org.murmur.server.model.UpdateFiles;

/**
 * Server-side evaluation: the accuracy of a dense classifier model (see {@link DenseClassifierShape})
 * on a validation set file holding {@code x [N, in]} and {@code y [N]} (class indices as floats),
 * each layer a {@link Backend#denseLayer} over batches of {@link #BATCH_ROWS} rows. The model's
 * weights are small and read whole; the validation set is read batch by batch from its mapping.
 */
public final class CandidateEvaluator {
    static final int BATCH_ROWS = 256;

    private CandidateEvaluator() {
    }

    /** The fraction of validation rows whose largest logit is at their label. */
    public static double accuracy(Backend backend, DenseClassifierShape shape, Path model, Path validationSet) {
        UpdateBatch weights = new UpdateBatch(List.of(UpdateFiles.open(model, "model " + model.getFileName())));
        int layers = shape.layers();
        float[][] w = new float[layers][];
        float[][] b = new float[layers][];
        for (int k = 0; k < layers; k++) {
            w[k] = tensor(weights, "fc" + (k + 1) + ".weight");
            b[k] = tensor(weights, "fc" + (k + 1) + ".bias");
        }
        UpdateBatch data = new UpdateBatch(List.of(UpdateFiles.open(validationSet, "validation set "
                + validationSet.getFileName())));
        long[] starts = data.tensorStarts(); // tensors in name order: x, then y
        int in = shape.inputs();
        long rows = starts[1] / in;
        int widest = shape.widths().stream().mapToInt(Integer::intValue).max().orElseThrow();
        float[] current = new float[BATCH_ROWS * widest];
        float[] next = new float[BATCH_ROWS * widest];
        float[] labels = new float[BATCH_ROWS];
        long correct = 0;
        for (long first = 0; first < rows; first += BATCH_ROWS) {
            int count = (int) Math.min(BATCH_ROWS, rows - first);
            data.read(0, first * in, count * in, current, 0);
            data.read(0, starts[1] + first, count, labels, 0);
            for (int k = 0; k < layers; k++) {
                backend.denseLayer(w[k], b[k], shape.widths().get(k + 1), shape.widths().get(k), current, count, next,
                        k < layers - 1);
                float[] swap = current;
                current = next;
                next = swap;
            }
            int classes = shape.classes();
            for (int r = 0; r < count; r++) {
                int best = 0;
                for (int c = 1; c < classes; c++) {
                    if (current[r * classes + c] > current[r * classes + best]) {
                        best = c;
                    }
                }
                if (best == labels[r]) {
                    correct++;
                }
            }
        }
        return rows == 0 ? 0 : (double) correct / rows;
    }

    private static float[] tensor(UpdateBatch batch, String name) {
        List<org.murmur.kernels.api.TensorData> layout = batch.layout();
        long[] starts = batch.tensorStarts();
        for (int t = 0; t < layout.size(); t++) {
            if (layout.get(t).name().equals(name)) {
                float[] values = new float[Math.toIntExact(starts[t + 1] - starts[t])];
                batch.read(0, starts[t], values.length, values, 0);
                return values;
            }
        }
        throw new IllegalArgumentException("the model has no tensor " + name);
    }
}
