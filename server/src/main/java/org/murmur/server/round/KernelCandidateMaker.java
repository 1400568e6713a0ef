package org.murmur.server.round;

import com.google.protobuf.ByteString;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalDouble;
import org.murmur.kernels.api.AggregationReport;
import org.murmur.kernels.api.Backend;
import org.murmur.kernels.api.FloatVector;
import org.murmur.kernels.api.InvalidInputException;
import org.murmur.kernels.api.RuleSpec;
import org.murmur.kernels.api.Screening;
import org.murmur.kernels.api.Update;
import org.murmur.kernels.api.UpdateBatch;
import org.murmur.proto.ledger.v1.Contributed;
import org.murmur.proto.v1.UpdateScore;
import org.murmur.server.economics.TaskRules;
import org.murmur.server.model.DenseClassifierShape;
import org.murmur.server.model.ModelFiles;
import org.murmur.server.model.UpdateFiles;
import org.murmur.server.store.ModelStore;
import org.murmur.server.store.UpdateKey;
import org.murmur.server.store.UpdateStore;

/**
 * Makes a round's candidate on a kernels {@link Backend}, straight from the update store's files
 * (memory-mapped, never read whole onto the heap): the task's rule over the contributions in
 * admission order, the result written in the model schema's dtypes into the model store. Every
 * update is then screened against the candidate (norm, cosine similarity, distance), and the
 * Krum-family rules add each update's Krum score and whether it was selected. A task with a
 * validation set has the candidate scored on it ({@link CandidateEvaluator}). Deterministic: the same
 * contributions give the same candidate bytes, so a restart that aggregates again proposes the
 * same hash. Thread-safe (one aggregation at a time is the caller's choice).
 */
public final class KernelCandidateMaker implements CandidateMaker {
    private static final HexFormat HEX = HexFormat.of();

    private final Backend backend;
    private final UpdateStore updates;
    private final ModelStore models;
    private final Path scratchDir;

    public KernelCandidateMaker(Backend backend, UpdateStore updates, ModelStore models, Path scratchDir) {
        this.backend = Objects.requireNonNull(backend, "backend");
        this.updates = Objects.requireNonNull(updates, "updates");
        this.models = Objects.requireNonNull(models, "models");
        this.scratchDir = Objects.requireNonNull(scratchDir, "scratchDir");
    }

    @Override
    public Candidate make(String taskId, long round, TaskRules rules, List<Contributed> contributions,
                          ByteString previousGlobal) throws RoundFailedException, IOException {
        List<Update> inputs = new ArrayList<>(contributions.size());
        double[] samples = new double[contributions.size()];
        for (int i = 0; i < contributions.size(); i++) {
            Contributed c = contributions.get(i);
            UpdateKey key = new UpdateKey(taskId, round, c.getNodeId());
            Path file = updates.find(key).orElseThrow(() -> new IOException("the update of " + key
                    + " is recorded in the ledger but missing from the update store " + updates.root()));
            inputs.add(UpdateFiles.open(file, "update of node " + c.getNodeId()));
            samples[i] = c.getNumSamples();
        }
        UpdateBatch batch = new UpdateBatch(inputs);
        RuleSpec spec = kernelRule(rules.rule(), samples, previousGlobal);
        FloatVector result = FloatVector.allocate(batch.dimension(), scratchDir);
        AggregationReport report;
        try {
            spec.requireFits(batch.size());
            report = backend.aggregate(spec, batch, result);
        } catch (InvalidInputException e) {
            throw new RoundFailedException(rules.ruleName() + " cannot aggregate the " + batch.size()
                    + " update(s) of round " + round + ": " + e.getMessage(), e);
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put("murmur.task", taskId);
        metadata.put("murmur.round", Long.toUnsignedString(round));
        metadata.put("murmur.rule", spec.toString());
        metadata.put("murmur.inputs", Integer.toString(batch.size()));
        String hex;
        try {
            hex = models.putFromWriter(temporary -> ModelFiles.writeInInputTypes(temporary, batch.layout(), result,
                    metadata));
        } catch (InvalidInputException e) {
            throw new RoundFailedException("the candidate of round " + round + " does not fit the model's dtypes: "
                    + e.getMessage(), e);
        }
        Screening screening = backend.screen(batch, result);
        OptionalDouble serverMetric = OptionalDouble.empty();
        if (rules.validationSet().isPresent()) {
            String validation = HEX.formatHex(rules.validationSet().get().toByteArray());
            Path validationFile = models.find(validation).orElseThrow(() -> new IOException("the validation set "
                    + validation + " is missing from the model store " + models.root()));
            Path candidateFile = models.find(hex).orElseThrow();
            serverMetric = OptionalDouble.of(CandidateEvaluator.accuracy(backend,
                    DenseClassifierShape.of(rules.schema()).shape().orElseThrow(), candidateFile, validationFile));
        }
        return new Candidate(ByteString.copyFrom(HEX.parseHex(hex)), scores(contributions, report, screening),
                serverMetric);
    }

    private RuleSpec kernelRule(org.murmur.proto.v1.RuleSpec rule, double[] samples, ByteString previousGlobal)
            throws IOException {
        return switch (rule.getName()) {
            case "fedavg" -> new RuleSpec.FedAvg(rule.getWeightBySamples() ? samples : null);
            case "median" -> new RuleSpec.Median();
            case "trimmed_mean" -> new RuleSpec.TrimmedMean(rule.getK());
            case "krum" -> new RuleSpec.Krum(rule.getF());
            case "multikrum" -> new RuleSpec.MultiKrum(rule.getF(), rule.getM());
            case "bulyan" -> new RuleSpec.Bulyan(rule.getF());
            case "geomedian" -> new RuleSpec.GeoMedian(rule.getMaxiter(), rule.getEps(), rule.getTol());
            case "centered_clip" -> {
                String hex = HEX.formatHex(previousGlobal.toByteArray());
                Path center = models.find(hex).orElseThrow(() -> new IOException("the global model " + hex
                        + " (the center of centered clipping) is missing from the model store " + models.root()));
                yield new RuleSpec.CenteredClip(rule.getTau(), rule.getIters(), UpdateFiles.open(center,
                        "global model " + hex));
            }
            case "norm_clip_mean" -> new RuleSpec.NormClipMean(rule.getC());
            default -> throw new IllegalArgumentException("unknown rule " + rule.getName());
        };
    }

    private static List<UpdateScore> scores(List<Contributed> contributions, AggregationReport report,
                                            Screening screening) {
        double[] krum = report.krumScores();
        boolean selectsSome = report.selected().length > 0;
        boolean[] selected = new boolean[contributions.size()];
        for (int index : report.selected()) {
            selected[index] = true;
        }
        List<UpdateScore> scores = new ArrayList<>(contributions.size());
        for (int i = 0; i < contributions.size(); i++) {
            scores.add(UpdateScore.newBuilder().setNodeId(contributions.get(i).getNodeId())
                    .setScore(krum.length == 0 ? 0 : krum[i]).setSelected(!selectsSome || selected[i])
                    .setNorm(screening.norms()[i]).setCosine(screening.cosines()[i])
                    .setDistance(screening.distances()[i]).build());
        }
        return scores;
    }
}
