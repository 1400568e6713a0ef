package org.murmur.kernels.cpu;

/** y = act(x W^T + b) row by row: each output a float64 dot product in independent lanes. */
final class DenseLayer {
    private static final int LANES = 8;

    private DenseLayer() {
    }

    static void run(float[] w, float[] b, int out, int in, float[] x, int rows, float[] y, boolean relu) {
        if (w.length < (long) out * in || b.length < out || x.length < (long) rows * in
                || y.length < (long) rows * out) {
            throw new IllegalArgumentException("dense layer " + in + " -> " + out + " over " + rows + " rows: w holds "
                    + w.length + ", b " + b.length + ", x " + x.length + ", y " + y.length + " floats");
        }
        double[] lanes = new double[LANES];
        for (int r = 0; r < rows; r++) {
            int xr = r * in;
            for (int o = 0; o < out; o++) {
                int wo = o * in;
                java.util.Arrays.fill(lanes, 0.0);
                int i = 0;
                for (; i + LANES <= in; i += LANES) {
                    for (int l = 0; l < LANES; l++) {
                        lanes[l] += (double) w[wo + i + l] * x[xr + i + l];
                    }
                }
                double sum = b[o];
                for (; i < in; i++) {
                    sum += (double) w[wo + i] * x[xr + i];
                }
                for (double lane : lanes) {
                    sum += lane;
                }
                float value = (float) sum;
                y[r * out + o] = relu && value < 0 ? 0 : value;
            }
        }
    }
}
