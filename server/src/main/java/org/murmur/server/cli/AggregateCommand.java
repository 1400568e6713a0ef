package org.murmur.server.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import org.murmur.kernels.Backends;
import org.murmur.kernels.api.AggregationReport;
import org.murmur.kernels.api.Backend;
import org.murmur.kernels.api.ElementType;
import org.murmur.kernels.api.FloatVector;
import org.murmur.kernels.api.InvalidInputException;
import org.murmur.kernels.api.RuleSpec;
import org.murmur.kernels.api.Update;
import org.murmur.kernels.api.UpdateBatch;
import org.murmur.server.model.ModelFiles;
import org.murmur.server.model.UpdateFiles;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code murmur aggregate}: the offline command of spec/aggregation-rules.md. Aggregates
 * safetensors updates by a rule and writes the result atomically; an invalid run writes nothing.
 */
@Command(name = "aggregate", mixinStandardHelpOptions = true,
        description = "Aggregate safetensors updates offline by a robust rule.",
        footer = {"", "Rules and their parameters:",
                "  fedavg [--weights W1,W2,...]   median   trimmed_mean --k K",
                "  krum --f F   multikrum --f F --m M   bulyan --f F",
                "  geomedian [--maxiter 100] [--eps 1e-8] [--tol 1e-7]",
                "  centered_clip --tau T [--iters 3] [--center FILE]   norm_clip_mean --c C"})
final class AggregateCommand implements Callable<Integer> {
    private static final Map<String, Set<String>> PARAMETERS = Map.of(
            "fedavg", Set.of("--weights"),
            "median", Set.of(),
            "trimmed_mean", Set.of("--k"),
            "krum", Set.of("--f"),
            "multikrum", Set.of("--f", "--m"),
            "bulyan", Set.of("--f"),
            "geomedian", Set.of("--maxiter", "--eps", "--tol"),
            "centered_clip", Set.of("--tau", "--iters", "--center"),
            "norm_clip_mean", Set.of("--c"));

    @Option(names = "--rule", required = true, paramLabel = "RULE",
            description = "fedavg, median, trimmed_mean, krum, multikrum, bulyan, geomedian, centered_clip, norm_clip_mean")
    String rule;

    @Option(names = "--out", required = true, paramLabel = "OUT.safetensors", description = "Where to write the aggregate.")
    Path out;

    @Parameters(arity = "1..*", paramLabel = "IN.safetensors", description = "The updates, in order (order matters for ties and weights).")
    List<Path> inputs;

    @Option(names = "--f", description = "Number of Byzantine updates tolerated (krum, multikrum, bulyan).")
    Integer f;

    @Option(names = "--k", description = "Values trimmed from each end (trimmed_mean).")
    Integer k;

    @Option(names = "--m", description = "Updates averaged (multikrum).")
    Integer m;

    @Option(names = "--c", description = "Norm bound (norm_clip_mean).")
    Double c;

    @Option(names = "--tau", description = "Clipping radius (centered_clip).")
    Double tau;

    @Option(names = "--iters", description = "Clipping iterations (centered_clip, default 3).")
    Integer iters;

    @Option(names = "--center", paramLabel = "FILE", description = "Previous global model to clip around (centered_clip; default the mean).")
    Path center;

    @Option(names = "--maxiter", description = "Most Weiszfeld steps (geomedian, default 100).")
    Integer maxIter;

    @Option(names = "--eps", description = "Smallest distance used for a weight (geomedian, default 1e-8).")
    Double eps;

    @Option(names = "--tol", description = "Relative stop tolerance (geomedian, default 1e-7).")
    Double tol;

    @Option(names = "--weights", paramLabel = "W1,W2,...", description = "One weight per input, in input order (fedavg).")
    String weights;

    @Option(names = "--backend", defaultValue = "auto", description = "auto, cpu or cuda (default auto).")
    String backend;

    @Option(names = "--out-dtype", defaultValue = "f32", description = "f32, f16 or bf16 (default f32).")
    String outDtype;

    @Spec
    CommandSpec command;

    @Override
    public Integer call() throws Exception {
        long started = System.nanoTime();
        ElementType outType = outputType();
        RuleSpec spec = ruleSpec();
        spec.requireFits(inputs.size());
        Path outDirectory = out.toAbsolutePath().getParent();
        if (!Files.isDirectory(outDirectory)) {
            throw new InvalidInputException("--out: directory " + outDirectory + " does not exist");
        }
        try (Backend engine = Backends.open(backend)) {
            List<Update> updates = new ArrayList<>();
            for (Path input : inputs) {
                updates.add(UpdateFiles.open(input));
            }
            UpdateBatch batch = new UpdateBatch(updates);
            FloatVector result = FloatVector.allocate(batch.dimension(), outDirectory);
            AggregationReport report = engine.aggregate(spec, batch, result);
            Map<String, String> metadata = new LinkedHashMap<>();
            metadata.put("murmur.rule", spec.toString());
            metadata.put("murmur.inputs", Integer.toString(batch.size()));
            ModelFiles.write(out, batch.layout(), result, outType, metadata);
            command.commandLine().getOut().printf(Locale.ROOT, "%s of %d updates (%d tensors, %d coordinates) on %s in %.3f s%s -> %s%n",
                    spec.name(), batch.size(), batch.layout().size(), batch.dimension(), engine.name(),
                    (System.nanoTime() - started) / 1e9, describe(report), out);
        }
        return 0;
    }

    private ElementType outputType() {
        switch (outDtype.toLowerCase(Locale.ROOT)) {
            case "f32":
                return ElementType.F32;
            case "f16":
                return ElementType.F16;
            case "bf16":
                return ElementType.BF16;
            default:
                throw new InvalidInputException("--out-dtype: '" + outDtype + "' is not one of f32, f16, bf16");
        }
    }

    private RuleSpec ruleSpec() {
        Set<String> allowed = PARAMETERS.get(rule);
        if (allowed == null) {
            throw new InvalidInputException("--rule: unknown rule '" + rule + "'; choose one of fedavg, median, trimmed_mean, "
                    + "krum, multikrum, bulyan, geomedian, centered_clip, norm_clip_mean");
        }
        Map<String, Object> given = new LinkedHashMap<>();
        given.put("--f", f);
        given.put("--k", k);
        given.put("--m", m);
        given.put("--c", c);
        given.put("--tau", tau);
        given.put("--iters", iters);
        given.put("--center", center);
        given.put("--maxiter", maxIter);
        given.put("--eps", eps);
        given.put("--tol", tol);
        given.put("--weights", weights);
        for (Map.Entry<String, Object> parameter : given.entrySet()) {
            if (parameter.getValue() != null && !allowed.contains(parameter.getKey())) {
                throw new InvalidInputException(parameter.getKey() + " does not apply to rule " + rule
                        + (allowed.isEmpty() ? " (it takes no parameters)" : " (it takes " + String.join(", ", allowed) + ")"));
            }
        }
        switch (rule) {
            case "fedavg":
                return new RuleSpec.FedAvg(weights == null ? null : parseWeights(weights));
            case "median":
                return new RuleSpec.Median();
            case "trimmed_mean":
                return new RuleSpec.TrimmedMean(required("--k", k));
            case "krum":
                return new RuleSpec.Krum(required("--f", f));
            case "multikrum":
                return new RuleSpec.MultiKrum(required("--f", f), required("--m", m));
            case "bulyan":
                return new RuleSpec.Bulyan(required("--f", f));
            case "geomedian":
                return new RuleSpec.GeoMedian(
                        maxIter == null ? RuleSpec.GeoMedian.DEFAULT_MAX_ITER : maxIter,
                        eps == null ? RuleSpec.GeoMedian.DEFAULT_EPS : eps,
                        tol == null ? RuleSpec.GeoMedian.DEFAULT_TOL : tol);
            case "centered_clip":
                return new RuleSpec.CenteredClip(required("--tau", tau),
                        iters == null ? RuleSpec.CenteredClip.DEFAULT_ITERS : iters,
                        center == null ? null : UpdateFiles.open(center));
            case "norm_clip_mean":
                return new RuleSpec.NormClipMean(required("--c", c));
            default:
                throw new AssertionError(rule);
        }
    }

    private <T> T required(String name, T value) {
        if (value == null) {
            throw new InvalidInputException(rule + " needs " + name);
        }
        return value;
    }

    private static double[] parseWeights(String text) {
        String[] parts = text.split(",", -1);
        double[] parsed = new double[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                parsed[i] = Double.parseDouble(parts[i].strip());
            } catch (NumberFormatException e) {
                throw new InvalidInputException("--weights: weight " + (i + 1) + " '" + parts[i] + "' is not a number");
            }
        }
        return parsed;
    }

    private static String describe(AggregationReport report) {
        if (report.selected().length > 0) {
            return ", selected " + Arrays.toString(report.selected());
        }
        if (report.iterations() > 0) {
            return ", " + report.iterations() + " iterations";
        }
        return "";
    }
}
