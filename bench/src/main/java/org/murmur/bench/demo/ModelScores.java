package org.murmur.bench.demo;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.murmur.bench.fl.Dataset;
import org.murmur.bench.fl.MlpFiles;
import org.murmur.proto.client.MurmurClient;
import org.murmur.proto.client.PullRequest;
import org.murmur.proto.client.RefusedException;
import org.murmur.proto.v1.ModelInfo;
import org.murmur.proto.v1.RoundResult;

/**
 * Scores a task's models on the 10,000 test images, pulling them through the node SDK like anyone
 * may. Each model is scored once, by SHA-256: an accepted candidate is the next global model, and a
 * rejected round leaves the global model as it was. Only the demo's thread uses it.
 */
final class ModelScores implements AutoCloseable {
    private final MurmurClient client;
    private final String task;
    private final Dataset test;
    private final Path file;
    private final Map<ByteString, Double> accuracyBySha = new HashMap<>();

    ModelScores(ManagedChannel channel, String task, Dataset test, Path scratch) {
        this.client = MurmurClient.builder(channel).ownsChannel(true).build();
        this.task = task;
        this.test = test;
        this.file = scratch.resolve("scored.safetensors");
    }

    /** {@code outcome} with its candidate's (when it had one) and its resulting global model's test accuracy. */
    RoundOutcome score(RoundOutcome outcome) throws IOException, RefusedException {
        // Only a failed round has no candidate: it failed before, or in, the aggregation.
        double candidate = outcome.result() == RoundResult.ROUND_RESULT_FAILED ? Double.NaN
                : accuracy(PullRequest.candidate(task, outcome.round()));
        return outcome.scored(candidate, accuracy(PullRequest.globalAfter(task, outcome.round())));
    }

    private double accuracy(PullRequest which) throws IOException, RefusedException {
        ModelInfo info = client.pullModel(which, file);
        ByteString sha = info.getSha256();
        Double known = accuracyBySha.get(sha);
        if (known == null) {
            known = MlpFiles.read(file).evaluate(test).accuracy();
            accuracyBySha.put(sha, known);
        }
        return known;
    }

    @Override
    public void close() {
        client.close();
    }
}
