package org.murmur.bench.fl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;

/** The backward pass against central finite differences of the forward pass, on a 6-5-3 net. */
class MlpGradientTest {
    /** Small enough that no hidden unit's input changes sign on a step (1e-2 makes one cross its ReLU kink). */
    private static final float EPSILON = 1e-3f;

    @Test
    void backwardMatchesFiniteDifferencesForEveryParameter() {
        Dataset data = Synthetic.blobs(8, 6, 3, 21);
        Mlp model = Mlp.init(6, 5, 3, 4);
        Batch batch = Batch.forModel(model, data.size());
        batch.load(data, Partitioner.identity(data.size()), 0, data.size());
        batch.forward(model);
        batch.backward(model);
        List<float[]> parameters = model.rows();
        List<float[]> gradients = batch.gradientRows().stream().map(float[]::clone).toList();
        int checked = 0;
        double largest = 0;
        for (int t = 0; t < parameters.size(); t++) {
            float[] values = parameters.get(t);
            for (int i = 0; i < values.length; i++) {
                float original = values[i];
                values[i] = original + EPSILON;
                double above = batch.forward(model) / data.size();
                values[i] = original - EPSILON;
                double below = batch.forward(model) / data.size();
                values[i] = original;
                double numeric = (above - below) / (2 * EPSILON);
                double analytic = gradients.get(t)[i];
                assertEquals(numeric, analytic, 2e-4 + 1e-2 * Math.abs(numeric),
                        "row " + t + " element " + i);
                largest = Math.max(largest, Math.abs(analytic));
                checked++;
            }
        }
        assertEquals(6 * 5 + 5 + 5 * 3 + 3, checked);
        assertTrue(largest > 1e-2, "the gradients should not all be near zero, largest " + largest);
    }
}
