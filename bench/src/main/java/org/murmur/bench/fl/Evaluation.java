package org.murmur.bench.fl;

/**
 * A model's score on a dataset.
 *
 * @param samples  how many samples were scored
 * @param accuracy the share of samples whose most probable class is their label, in [0, 1]
 * @param loss     the mean softmax cross-entropy, in nats
 */
public record Evaluation(int samples, double accuracy, double loss) {
}
