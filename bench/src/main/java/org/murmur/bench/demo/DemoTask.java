package org.murmur.bench.demo;

import io.grpc.ManagedChannel;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Path;
import java.util.List;
import org.murmur.bench.fl.Mlp;
import org.murmur.bench.fl.MlpFiles;
import org.murmur.proto.TensorSpecs;
import org.murmur.proto.client.MurmurClient;
import org.murmur.proto.client.RefusedException;
import org.murmur.proto.client.RoundClient;
import org.murmur.proto.safetensors.TensorHeader;
import org.murmur.proto.v1.Economics;
import org.murmur.proto.v1.TaskParams;
import org.murmur.proto.v1.UploadReceipt;
import org.murmur.server.economics.Tokens;

/**
 * The demo's task, created as a task creator would: the admin uploads the initial model with
 * PutModel and creates the task with CreateTask. The economics are the paper's: a fixed penalty
 * of 8 tokens per offence (what each node stakes is {@code --stake}).
 */
final class DemoTask {
    static final BigInteger MIN_STAKE = Tokens.of(10);
    static final BigInteger PENALTY = Tokens.of(8);
    static final BigInteger REWARD_POOL = Tokens.of(1000);
    /**
     * Each phase's deadline. Phases end as soon as every node has acted; the deadline only bounds
     * a stuck run, so it is generous for a loaded machine.
     */
    static final int ROUND_SECONDS = 120;
    /**
     * The test accuracy round 0's candidate must reach, where voters have no validated global model
     * to compare with: twice chance, so the first model accepted has learned something. (A random
     * initial model scores below chance, and a poisoned one that predicts one class scores 10%.)
     */
    static final double BASELINE_ACCURACY = 0.2;
    /** Task ids are "demo-1", "demo-2", ...: the first free one, so a data directory can hold many runs. */
    static final String ID_PREFIX = "demo-";

    private DemoTask() {
    }

    /** The first task id of the form demo-N that the server's data directory does not hold. */
    static String freshId(DemoServer server) {
        List<String> taken = server.tasks().taskIds();
        for (int n = 1; ; n++) {
            if (!taken.contains(ID_PREFIX + n)) {
                return ID_PREFIX + n;
            }
        }
    }

    /** Uploads {@code initial} (written to {@code scratch}) and creates task {@code taskId}. */
    static void create(DemoServer server, DemoSettings settings, String taskId, Mlp initial, Path scratch)
            throws IOException, RefusedException {
        Path file = scratch.resolve("initial.safetensors");
        MlpFiles.write(initial, file);
        ManagedChannel channel = server.channel();
        try (MurmurClient client = MurmurClient.builder(channel).ownsChannel(true).build()) {
            UploadReceipt receipt = client.putModel(server.admin(), file);
            TaskParams.Builder params = TaskParams.newBuilder()
                    .setTotalRounds(settings.rounds())
                    .setRoundSeconds(ROUND_SECONDS)
                    .setProposerFraction(settings.proposerFraction())
                    .setMinStake(Tokens.format(MIN_STAKE))
                    .setRewardPool(Tokens.format(REWARD_POOL))
                    .setEconomics(Economics.ECONOMICS_FIXED_PENALTY)
                    .setPenalty(Tokens.format(PENALTY))
                    .setRule(settings.rule().proto())
                    .setBaselineMetric(BASELINE_ACCURACY)
                    .setInitialModelSha256(receipt.getSha256());
            for (TensorHeader tensor : initial.schema()) {
                params.addModelSchema(TensorSpecs.of(tensor.name(), tensor.dtype(), tensor.shape()));
            }
            new RoundClient(channel, server.admin()).createTask(taskId, params.build());
        }
    }
}
