package org.murmur.bench.fl;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.SplittableRandom;

import org.murmur.proto.safetensors.TensorDtype;
import org.murmur.proto.safetensors.TensorHeader;

/**
 * A two-layer perceptron, inputs → hidden (ReLU) → classes (softmax), with float32 parameters
 * that read and write as PyTorch names a pair of {@code nn.Linear} layers: {@code fc1.weight}
 * [hidden, inputs], {@code fc1.bias} [hidden], {@code fc2.weight} [classes, hidden],
 * {@code fc2.bias} [classes]. Immutable, hence thread-safe: training and the attacks return new
 * models. Internally fc1's weight is kept transposed and every weight matrix is an array of row
 * arrays, the layout the passes in {@link Batch} need to run as SIMD code.
 */
public final class Mlp {
    public static final String FC1_WEIGHT = "fc1.weight";
    public static final String FC1_BIAS = "fc1.bias";
    public static final String FC2_WEIGHT = "fc2.weight";
    public static final String FC2_BIAS = "fc2.bias";
    /** Samples per batch when evaluating. */
    private static final int EVALUATION_BATCH = 256;

    private final int inputs;
    private final int hidden;
    private final int classes;
    /** fc1.weight transposed: row k holds input k's weights into the hidden units. */
    final float[][] w1t;
    final float[] b1;
    /** fc2.weight: row o holds class o's weights from the hidden units. */
    final float[][] w2;
    final float[] b2;

    /** A model of zeros; only this package fills in the parameters, before publishing it. */
    Mlp(int inputs, int hidden, int classes) {
        if (inputs < 1 || hidden < 1 || classes < 2) {
            throw new IllegalArgumentException("need at least 1 input, 1 hidden unit and 2 classes, got "
                    + inputs + "-" + hidden + "-" + classes);
        }
        this.inputs = inputs;
        this.hidden = hidden;
        this.classes = classes;
        w1t = new float[inputs][hidden];
        b1 = new float[hidden];
        w2 = new float[classes][hidden];
        b2 = new float[classes];
    }

    /**
     * A fresh model: fc1's weight He-normal (standard deviation sqrt(2 / inputs), for the ReLU),
     * fc2's weight Xavier-uniform (within ±sqrt(6 / (hidden + classes))), biases zero. The same
     * seed gives the same bits.
     */
    public static Mlp init(int inputs, int hidden, int classes, long seed) {
        Mlp model = new Mlp(inputs, hidden, classes);
        SplittableRandom random = new SplittableRandom(seed);
        double he = Math.sqrt(2.0 / inputs);
        for (int j = 0; j < hidden; j++) {
            for (int k = 0; k < inputs; k++) {
                model.w1t[k][j] = (float) (he * random.nextGaussian());
            }
        }
        double xavier = Math.sqrt(6.0 / (hidden + classes));
        for (float[] row : model.w2) {
            for (int j = 0; j < hidden; j++) {
                row[j] = (float) random.nextDouble(-xavier, xavier);
            }
        }
        return model;
    }

    /** {@link #init} for Fashion-MNIST: 784 inputs, 10 classes. */
    public static Mlp forFashionMnist(int hidden, long seed) {
        return init(FashionMnist.PIXELS, hidden, FashionMnist.CLASSES, seed);
    }

    public int inputs() {
        return inputs;
    }

    public int hidden() {
        return hidden;
    }

    public int classes() {
        return classes;
    }

    /** The four tensors' names, F32 dtype and shapes, in file order. */
    public List<TensorHeader> schema() {
        return List.of(
                new TensorHeader(FC1_WEIGHT, TensorDtype.F32, new long[] {hidden, inputs}),
                new TensorHeader(FC1_BIAS, TensorDtype.F32, new long[] {hidden}),
                new TensorHeader(FC2_WEIGHT, TensorDtype.F32, new long[] {classes, hidden}),
                new TensorHeader(FC2_BIAS, TensorDtype.F32, new long[] {classes}));
    }

    /** A copy of one tensor's values in row-major order of its {@link #schema()} shape. */
    public float[] tensor(String name) {
        switch (Objects.requireNonNull(name, "name")) {
            case FC1_WEIGHT -> {
                float[] weight = new float[hidden * inputs];
                for (int k = 0; k < inputs; k++) {
                    for (int j = 0; j < hidden; j++) {
                        weight[j * inputs + k] = w1t[k][j];
                    }
                }
                return weight;
            }
            case FC1_BIAS -> {
                return b1.clone();
            }
            case FC2_WEIGHT -> {
                float[] weight = new float[classes * hidden];
                for (int o = 0; o < classes; o++) {
                    System.arraycopy(w2[o], 0, weight, o * hidden, hidden);
                }
                return weight;
            }
            case FC2_BIAS -> {
                return b2.clone();
            }
            default -> throw new IllegalArgumentException("no tensor '" + name + "'; the tensors are "
                    + FC1_WEIGHT + ", " + FC1_BIAS + ", " + FC2_WEIGHT + ", " + FC2_BIAS);
        }
    }

    /** Sets one tensor from values in row-major order of its {@link #schema()} shape; only while building. */
    void setTensor(String name, float[] values) {
        switch (name) {
            case FC1_WEIGHT -> {
                for (int j = 0; j < hidden; j++) {
                    for (int k = 0; k < inputs; k++) {
                        w1t[k][j] = values[j * inputs + k];
                    }
                }
            }
            case FC1_BIAS -> System.arraycopy(values, 0, b1, 0, hidden);
            case FC2_WEIGHT -> {
                for (int o = 0; o < classes; o++) {
                    System.arraycopy(values, o * hidden, w2[o], 0, hidden);
                }
            }
            case FC2_BIAS -> System.arraycopy(values, 0, b2, 0, classes);
            default -> throw new IllegalArgumentException("no tensor '" + name + "'");
        }
    }

    /** Accuracy and mean loss on every sample of {@code data}. */
    public Evaluation evaluate(Dataset data) {
        requireInputs(data);
        if (data.size() == 0) {
            throw new IllegalArgumentException("cannot evaluate on an empty dataset");
        }
        Batch batch = Batch.forModel(this, EVALUATION_BATCH);
        int[] order = Partitioner.identity(data.size());
        double loss = 0;
        long correct = 0;
        for (int from = 0; from < data.size(); from += EVALUATION_BATCH) {
            batch.load(data, order, from, Math.min(EVALUATION_BATCH, data.size() - from));
            loss += batch.forward(this);
            correct += batch.correct();
        }
        return new Evaluation(data.size(), (double) correct / data.size(), loss / data.size());
    }

    void requireInputs(Dataset data) {
        if (data.features() != inputs) {
            throw new IllegalArgumentException("the data has " + data.features() + " features per sample, the model "
                    + inputs + " inputs");
        }
    }

    /** {@code base + step * (toward - base)}, element by element. */
    static Mlp along(Mlp base, Mlp toward, float step) {
        base.requireSameShape(toward);
        Mlp moved = new Mlp(base.inputs, base.hidden, base.classes);
        List<float[]> from = base.rows();
        List<float[]> to = toward.rows();
        List<float[]> out = moved.rows();
        for (int r = 0; r < out.size(); r++) {
            float[] a = from.get(r);
            float[] b = to.get(r);
            float[] c = out.get(r);
            for (int i = 0; i < c.length; i++) {
                c[i] = a[i] + step * (b[i] - a[i]);
            }
        }
        return moved;
    }

    /** This model plus independent N(0, sigma²) noise on every parameter. */
    Mlp plusNoise(double sigma, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        Mlp noisy = copy();
        for (float[] row : noisy.rows()) {
            for (int i = 0; i < row.length; i++) {
                row[i] += (float) (sigma * random.nextGaussian());
            }
        }
        return noisy;
    }

    Mlp copy() {
        Mlp copy = new Mlp(inputs, hidden, classes);
        List<float[]> from = rows();
        List<float[]> to = copy.rows();
        for (int r = 0; r < to.size(); r++) {
            System.arraycopy(from.get(r), 0, to.get(r), 0, to.get(r).length);
        }
        return copy;
    }

    /** Every parameter, as the rows of fc1's transposed weight, fc1's bias, fc2's weight rows, fc2's bias. */
    List<float[]> rows() {
        return parameterRows(w1t, b1, w2, b2);
    }

    /** The order of {@link #rows()}, for any arrays of the parameters' shapes (gradients, say). */
    static List<float[]> parameterRows(float[][] w1t, float[] b1, float[][] w2, float[] b2) {
        List<float[]> rows = new ArrayList<>(w1t.length + w2.length + 2);
        rows.addAll(Arrays.asList(w1t));
        rows.add(b1);
        rows.addAll(Arrays.asList(w2));
        rows.add(b2);
        return rows;
    }

    void requireSameShape(Mlp other) {
        if (other.inputs != inputs || other.hidden != hidden || other.classes != classes) {
            throw new IllegalArgumentException("models differ in shape: " + inputs + "-" + hidden + "-" + classes
                    + " and " + other.inputs + "-" + other.hidden + "-" + other.classes);
        }
    }
}
