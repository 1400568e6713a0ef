package org.murmur.bench.fl;

import java.util.List;
import java.util.SplittableRandom;

/**
 * Plain mini-batch stochastic gradient descent on the mean cross-entropy: each epoch visits every
 * sample once in a seeded random order, in batches of {@code batchSize} (the last may be
 * smaller), and steps by {@code -learningRate} times the batch's gradient. Deterministic: the
 * same model, data and seed give the same bits. Single-threaded; separate calls may run in parallel.
 */
public record Sgd(float learningRate, int batchSize, int epochs) {

    public Sgd {
        if (!(learningRate > 0) || Float.isInfinite(learningRate)) {
            throw new IllegalArgumentException("learningRate must be positive and finite, was " + learningRate);
        }
        if (batchSize < 1 || epochs < 1) {
            throw new IllegalArgumentException("batchSize and epochs must be at least 1, were "
                    + batchSize + " and " + epochs);
        }
    }

    /** Trains a copy of {@code start} on {@code data}; {@code start} is left as it is. */
    public Mlp train(Mlp start, Dataset data, long seed) {
        start.requireInputs(data);
        if (data.size() == 0) {
            throw new IllegalArgumentException("cannot train on an empty dataset");
        }
        Mlp model = start.copy();
        Batch batch = Batch.forModel(model, Math.min(batchSize, data.size()));
        SplittableRandom random = new SplittableRandom(seed);
        int[] order = Partitioner.identity(data.size());
        List<float[]> parameters = model.rows();
        List<float[]> gradients = batch.gradientRows();
        for (int epoch = 0; epoch < epochs; epoch++) {
            order = Partitioner.shuffled(order, random);
            for (int from = 0; from < order.length; from += batchSize) {
                batch.load(data, order, from, Math.min(batchSize, order.length - from));
                batch.forward(model);
                batch.backward(model);
                for (int r = 0; r < parameters.size(); r++) {
                    step(parameters.get(r), gradients.get(r));
                }
            }
        }
        return model;
    }

    private void step(float[] parameters, float[] gradient) {
        float rate = learningRate;
        for (int i = 0; i < parameters.length; i++) {
            parameters[i] -= rate * gradient[i];
        }
    }
}
