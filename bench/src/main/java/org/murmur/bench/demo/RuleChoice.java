package org.murmur.bench.demo;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.murmur.kernels.api.InvalidInputException;
import org.murmur.kernels.api.RuleSpec;
import org.murmur.server.grpc.InvalidConfigException;

/**
 * The aggregation rule of a demo task, from {@code --rule} and its parameters {@code --f},
 * {@code --k}, {@code --m}, {@code --c}, {@code --tau}: checked once by the kernels' own
 * {@link RuleSpec} (each parameter's range, and whether one round's proposers are enough updates
 * for the rule), then carried to the task as the protocol's rule. Immutable.
 */
record RuleChoice(org.murmur.proto.v1.RuleSpec proto) {
    private static final String RULES = "fedavg, median, trimmed_mean, krum, multikrum, bulyan, geomedian, "
            + "centered_clip, norm_clip_mean";

    /**
     * @param updates the updates one round brings (its proposers), which the rule must be able to aggregate
     * @throws InvalidConfigException naming the flag at fault
     */
    static RuleChoice of(String name, Integer f, Integer k, Integer m, Double c, Double tau, int updates) {
        Set<String> takes = switch (name) {
            case "fedavg", "median", "geomedian" -> Set.of();
            case "trimmed_mean" -> Set.of("k");
            case "krum", "bulyan" -> Set.of("f");
            case "multikrum" -> Set.of("f", "m");
            case "centered_clip" -> Set.of("tau");
            case "norm_clip_mean" -> Set.of("c");
            default -> throw new InvalidConfigException("rule", "unknown rule '" + name + "'; choose one of " + RULES);
        };
        Map<String, Object> given = new LinkedHashMap<>();
        given.put("f", f);
        given.put("k", k);
        given.put("m", m);
        given.put("c", c);
        given.put("tau", tau);
        for (Map.Entry<String, Object> parameter : given.entrySet()) {
            boolean present = parameter.getValue() != null;
            if (present && !takes.contains(parameter.getKey())) {
                throw new InvalidConfigException(parameter.getKey(), "does not apply to rule " + name);
            }
            if (!present && takes.contains(parameter.getKey())) {
                throw new InvalidConfigException(parameter.getKey(), "is required by rule " + name);
            }
        }
        RuleSpec kernel;
        try {
            kernel = switch (name) {
                case "fedavg" -> new RuleSpec.FedAvg(null);
                case "median" -> new RuleSpec.Median();
                case "trimmed_mean" -> new RuleSpec.TrimmedMean(k);
                case "krum" -> new RuleSpec.Krum(f);
                case "multikrum" -> new RuleSpec.MultiKrum(f, m);
                case "bulyan" -> new RuleSpec.Bulyan(f);
                case "geomedian" -> new RuleSpec.GeoMedian(RuleSpec.GeoMedian.DEFAULT_MAX_ITER,
                        RuleSpec.GeoMedian.DEFAULT_EPS, RuleSpec.GeoMedian.DEFAULT_TOL);
                case "centered_clip" -> new RuleSpec.CenteredClip(tau, RuleSpec.CenteredClip.DEFAULT_ITERS, null);
                case "norm_clip_mean" -> new RuleSpec.NormClipMean(c);
                default -> throw new AssertionError(name);
            };
        } catch (InvalidInputException e) {
            // The kernels name the parameter first ("--k must be >= 0, got -1"): keep it as the setting at fault.
            String message = e.getMessage();
            int space = message.indexOf(' ');
            throw message.startsWith("--") && space > 2
                    ? new InvalidConfigException(message.substring(2, space), message.substring(space + 1))
                    : new InvalidConfigException("rule", message);
        }
        try {
            kernel.requireFits(updates);
        } catch (InvalidInputException e) {
            throw new InvalidConfigException("rule", e.getMessage() + " (each round has " + updates
                    + " proposers: --nodes times --proposer-fraction, rounded up)");
        }
        org.murmur.proto.v1.RuleSpec.Builder proto = org.murmur.proto.v1.RuleSpec.newBuilder().setName(name);
        if (f != null) {
            proto.setF(f);
        }
        if (k != null) {
            proto.setK(k);
        }
        if (m != null) {
            proto.setM(m);
        }
        if (c != null) {
            proto.setC(c);
        }
        if (tau != null) {
            proto.setTau(tau);
        }
        return new RuleChoice(proto.build());
    }

    /** The rule as the demo prints it: "krum (f=1)". */
    String describe() {
        StringBuilder text = new StringBuilder(proto.getName());
        String parameters = (proto.hasF() ? " f=" + proto.getF() : "") + (proto.hasK() ? " k=" + proto.getK() : "")
                + (proto.hasM() ? " m=" + proto.getM() : "") + (proto.hasC() ? " c=" + proto.getC() : "")
                + (proto.hasTau() ? " tau=" + proto.getTau() : "");
        if (!parameters.isEmpty()) {
            text.append(" (").append(parameters.strip().replace(' ', ',')).append(')');
        }
        return text.toString();
    }
}
