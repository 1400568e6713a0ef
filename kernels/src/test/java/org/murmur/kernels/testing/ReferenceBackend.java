package org.murmur.kernels.testing;

import java.util.List;
import org.murmur.kernels.api.AggregationReport;
import org.murmur.kernels.api.Backend;
import org.murmur.kernels.api.FloatVector;
import org.murmur.kernels.api.RuleSpec;
import org.murmur.kernels.api.Screening;
import org.murmur.kernels.api.Update;
import org.murmur.kernels.api.UpdateBatch;

/**
 * {@link ReferenceRules} behind the {@link Backend} interface: reads the whole batch into float64
 * and writes the cast result. Slow and memory-hungry; it exists so that the contract suites can be
 * run against the spec's own definition (a suite that fails here is wrong, not the backend).
 */
public final class ReferenceBackend implements Backend {

    @Override
    public String name() {
        return "reference";
    }

    @Override
    public AggregationReport aggregate(RuleSpec rule, UpdateBatch batch, FloatVector out) {
        rule.requireFits(batch.size());
        if (out.length() != batch.dimension()) {
            throw new IllegalArgumentException("output of " + out.length() + " for d = " + batch.dimension());
        }
        double[] center = null;
        if (rule instanceof RuleSpec.CenteredClip c && c.center() != null) {
            UpdateBatch.requireSameLayout(batch.update(0), c.center());
            UpdateBatch.requireSameLayout(c.center(), batch.update(0));
            center = read(new UpdateBatch(List.of(c.center())))[0];
        }
        double[][] x = read(batch);
        ReferenceRules.Expected e = ReferenceRules.apply(rule, x, center);
        float[] values = new float[e.value().length];
        for (int j = 0; j < values.length; j++) {
            values[j] = (float) e.value()[j];
        }
        out.put(0, values, 0, values.length);
        return new AggregationReport(e.selected(), e.krumScores(), e.iterations());
    }

    /** Norms, cosines and distances straight from their definitions, in float64. */
    @Override
    public Screening screen(UpdateBatch batch, FloatVector candidate) {
        double[][] x = read(batch);
        int d = x.length == 0 ? 0 : x[0].length;
        float[] c = new float[d];
        candidate.get(0, c, 0, d);
        double[] norms = new double[x.length];
        double[] cosines = new double[x.length];
        double[] distances = new double[x.length];
        double cc = 0;
        for (int j = 0; j < d; j++) {
            cc += (double) c[j] * c[j];
        }
        for (int i = 0; i < x.length; i++) {
            double xx = 0;
            double xc = 0;
            double dd = 0;
            for (int j = 0; j < d; j++) {
                xx += x[i][j] * x[i][j];
                xc += x[i][j] * c[j];
                dd += (x[i][j] - c[j]) * (x[i][j] - c[j]);
            }
            norms[i] = Math.sqrt(xx);
            cosines[i] = xx == 0 || cc == 0 ? 0 : xc / Math.sqrt(xx * cc);
            distances[i] = Math.sqrt(dd);
        }
        return new Screening(norms, cosines, distances);
    }

    @Override
    public void denseLayer(float[] w, float[] b, int out, int in, float[] x, int rows, float[] y, boolean relu) {
        for (int r = 0; r < rows; r++) {
            for (int o = 0; o < out; o++) {
                double sum = b[o];
                for (int i = 0; i < in; i++) {
                    sum += (double) w[o * in + i] * x[r * in + i];
                }
                y[r * out + o] = relu ? (float) Math.max(0, sum) : (float) sum;
            }
        }
    }

    @Override
    public void close() {
    }

    private static double[][] read(UpdateBatch batch) {
        int d = Math.toIntExact(batch.dimension());
        double[][] x = new double[batch.size()][d];
        float[] row = new float[d];
        for (int i = 0; i < batch.size(); i++) {
            batch.read(i, 0, d, row, 0);
            for (int j = 0; j < d; j++) {
                x[i][j] = row[j];
            }
        }
        return x;
    }

    /** The center as one update, for callers that hold an {@link Update}. */
    static double[] values(Update update) {
        return read(new UpdateBatch(List.of(update)))[0];
    }
}
