package org.murmur.bench.fl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;

import org.junit.jupiter.api.Test;

class MlpTrainingTest {

    @Test
    void reachesEightyPercentOnFashionMnistFromSixThousandSamples() throws IOException {
        FashionMnist data = RealData.fashionMnist();
        Dataset train = data.train().subset(Partitioner.iid(data.train().size(), 10, 1)[0]);
        assertEquals(6_000, train.size());
        Mlp start = Mlp.forFashionMnist(128, 1);
        Sgd warmUp = new Sgd(0.05f, 16, 1);
        warmUp.train(start, train.subset(Partitioner.identity(1_000)), 0);

        Sgd sgd = new Sgd(0.05f, 16, 8);
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        long began = System.nanoTime();
        long beganCpu = threads.getCurrentThreadCpuTime();
        Mlp trained = sgd.train(start, train, 2);
        double seconds = (System.nanoTime() - began) / 1e9;
        double cpuSeconds = (threads.getCurrentThreadCpuTime() - beganCpu) / 1e9;
        Evaluation before = start.evaluate(data.test());
        Evaluation after = trained.evaluate(data.test());

        int samples = train.size() * sgd.epochs();
        System.out.printf("784-128-10 SGD: %d samples x %d epochs in %.2f s, %.2f s of CPU (%.0f samples/s, %.0f per"
                        + " CPU second); test accuracy %.4f -> %.4f, loss %.4f -> %.4f%n", train.size(), sgd.epochs(),
                seconds, cpuSeconds, samples / seconds, samples / cpuSeconds, before.accuracy(), after.accuracy(),
                before.loss(), after.loss());
        assertEquals(10_000, after.samples());
        assertTrue(after.accuracy() >= 0.80, "test accuracy " + after.accuracy());
        assertTrue(after.loss() < before.loss());
    }

    @Test
    void trainingIsDeterministicAndLeavesTheStartModelAlone() {
        Dataset data = Synthetic.blobs(500, 30, 10, 2);
        Mlp start = Mlp.init(30, 16, 10, 3);
        float[] startWeights = start.tensor(Mlp.FC1_WEIGHT);
        Sgd sgd = new Sgd(0.05f, 16, 2);
        Mlp first = sgd.train(start, data, 9);
        Mlp second = sgd.train(start, data, 9);
        Mlp other = sgd.train(start, data, 10);
        for (String name : new String[] {Mlp.FC1_WEIGHT, Mlp.FC1_BIAS, Mlp.FC2_WEIGHT, Mlp.FC2_BIAS}) {
            assertArrayEquals(first.tensor(name), second.tensor(name), name);
        }
        assertFalse(Arrays.equals(first.tensor(Mlp.FC1_WEIGHT), other.tensor(Mlp.FC1_WEIGHT)));
        assertArrayEquals(startWeights, start.tensor(Mlp.FC1_WEIGHT));
        assertArrayEquals(Mlp.init(30, 16, 10, 3).tensor(Mlp.FC2_WEIGHT), start.tensor(Mlp.FC2_WEIGHT));
    }

    @Test
    void initializationFollowsHeAndXavier() {
        Mlp model = Mlp.forFashionMnist(128, 5);
        assertEquals(784, model.inputs());
        assertEquals(128, model.hidden());
        assertEquals(10, model.classes());
        float[] fc1 = model.tensor(Mlp.FC1_WEIGHT);
        double squares = 0;
        for (float w : fc1) {
            squares += w * w;
        }
        assertEquals(Math.sqrt(2.0 / 784), Math.sqrt(squares / fc1.length), 0.002);
        double limit = Math.sqrt(6.0 / 138);
        for (float w : model.tensor(Mlp.FC2_WEIGHT)) {
            assertTrue(Math.abs(w) <= limit);
        }
        assertArrayEquals(new float[128], model.tensor(Mlp.FC1_BIAS));
        assertArrayEquals(new float[10], model.tensor(Mlp.FC2_BIAS));
    }

    @Test
    void refusesDataOfTheWrongWidth() {
        Mlp model = Mlp.init(30, 16, 10, 3);
        Dataset narrow = Synthetic.blobs(10, 29, 10, 1);
        assertThrows(IllegalArgumentException.class, () -> model.evaluate(narrow));
        assertThrows(IllegalArgumentException.class, () -> new Sgd(0.1f, 8, 1).train(model, narrow, 1));
        Dataset tooManyClasses = Synthetic.blobs(10, 30, 12, 1);
        assertThrows(IllegalArgumentException.class, () -> Mlp.init(30, 16, 10, 3).evaluate(tooManyClasses));
    }
}
