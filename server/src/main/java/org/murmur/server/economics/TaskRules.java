package org.murmur.server.economics;

import com.google.protobuf.ByteString;
import java.math.BigInteger;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.Set;
import org.murmur.proto.v1.Economics;
import org.murmur.proto.v1.MetricDirection;
import org.murmur.proto.v1.RuleSpec;
import org.murmur.proto.v1.TaskParams;
import org.murmur.server.model.DenseClassifierShape;
import org.murmur.server.model.ModelSchema;

/**
 * A task's parameters, validated and with every default of fl-alliance.md filled in. Built once
 * from the creator's {@link TaskParams}; {@link #toProto()} gives back the complete parameters the
 * ledger records, and {@code fromProto(toProto())} equals the original. Immutable.
 */
public record TaskRules(
        int totalRounds,
        int roundSeconds,
        int minParticipants,
        int maxParticipants,
        BigInteger minStake,
        BigInteger rewardPool,
        ExactDecimal proposerFraction,
        int committeeSize,
        boolean stakeWeightedVotes,
        RuleSpec rule,
        Economics economics,
        ExactDecimal slashFraction,
        BigInteger penalty,
        boolean higherIsBetter,
        int minVotes,
        ModelSchema schema,
        ByteString initialModelSha256,
        OptionalDouble baselineMetric,
        Optional<ByteString> validationSet) {

    public static final int DEFAULT_TOTAL_ROUNDS = 10;
    public static final int DEFAULT_ROUND_SECONDS = 600;
    public static final int DEFAULT_MIN_PARTICIPANTS = 3;
    public static final int DEFAULT_MAX_PARTICIPANTS = 1000;
    public static final BigInteger DEFAULT_MIN_STAKE = Tokens.of(10);
    public static final BigInteger DEFAULT_REWARD_POOL = Tokens.of(1000);
    public static final String DEFAULT_PROPOSER_FRACTION = "0.2";
    public static final String DEFAULT_SLASH_FRACTION = "0.1";
    public static final BigInteger DEFAULT_PENALTY = Tokens.of(8);
    public static final int DEFAULT_MIN_VOTES = 1;

    /** Upper bounds that keep a task's timers, loops and ledger sizes sane. */
    static final int MAX_TOTAL_ROUNDS = 1_000_000;
    static final int MAX_ROUND_SECONDS = 7 * 24 * 3600;
    static final int MAX_PARTICIPANTS = 100_000;

    /** Each rule and the parameters it takes (aggregation-rules.md). */
    private static final Map<String, Set<String>> RULE_PARAMETERS = Map.of(
            "fedavg", Set.of("weight_by_samples"),
            "median", Set.of(),
            "trimmed_mean", Set.of("k"),
            "krum", Set.of("f"),
            "multikrum", Set.of("f", "m"),
            "bulyan", Set.of("f"),
            "geomedian", Set.of("maxiter", "eps", "tol"),
            "centered_clip", Set.of("tau", "iters"),
            "norm_clip_mean", Set.of("c"));

    /** Validates {@code params} and fills in defaults; {@link InvalidParameterException} names the first bad field. */
    public static TaskRules fromProto(TaskParams p) {
        int totalRounds = bounded("total_rounds", p.hasTotalRounds() ? p.getTotalRounds() : DEFAULT_TOTAL_ROUNDS,
                1, MAX_TOTAL_ROUNDS);
        int roundSeconds = bounded("round_seconds", p.hasRoundSeconds() ? p.getRoundSeconds() : DEFAULT_ROUND_SECONDS,
                1, MAX_ROUND_SECONDS);
        int minParticipants = bounded("min_participants",
                p.hasMinParticipants() ? p.getMinParticipants() : DEFAULT_MIN_PARTICIPANTS, 1, MAX_PARTICIPANTS);
        int maxParticipants = bounded("max_participants",
                p.hasMaxParticipants() ? p.getMaxParticipants() : DEFAULT_MAX_PARTICIPANTS, minParticipants,
                MAX_PARTICIPANTS);
        BigInteger minStake = amount("min_stake", p.hasMinStake() ? p.getMinStake() : null, DEFAULT_MIN_STAKE);
        if (minStake.signum() == 0) {
            throw new InvalidParameterException("min_stake must be positive: a stake is what a node risks");
        }
        BigInteger rewardPool = amount("reward_pool", p.hasRewardPool() ? p.getRewardPool() : null,
                DEFAULT_REWARD_POOL);
        ExactDecimal proposerFraction = fraction("proposer_fraction",
                p.hasProposerFraction() ? p.getProposerFraction() : DEFAULT_PROPOSER_FRACTION);
        if (proposerFraction.isZero()) {
            throw new InvalidParameterException("proposer_fraction must be above 0");
        }
        int committeeSize = bounded("committee_size", p.getCommitteeSize(), 0, MAX_PARTICIPANTS);
        boolean weighted = !p.hasStakeWeightedVotes() || p.getStakeWeightedVotes();
        RuleSpec rule = rule(p.getRule());
        Economics economics = switch (p.getEconomics()) {
            case ECONOMICS_UNSPECIFIED, ECONOMICS_PRO_RATA -> Economics.ECONOMICS_PRO_RATA;
            case ECONOMICS_FIXED_PENALTY -> Economics.ECONOMICS_FIXED_PENALTY;
            default -> throw new InvalidParameterException("economics: unknown value " + p.getEconomicsValue());
        };
        ExactDecimal slashFraction = fraction("slash_fraction",
                p.hasSlashFraction() ? p.getSlashFraction() : DEFAULT_SLASH_FRACTION);
        BigInteger penalty = amount("penalty", p.hasPenalty() ? p.getPenalty() : null, DEFAULT_PENALTY);
        boolean higherIsBetter = switch (p.getMetricDirection()) {
            case METRIC_DIRECTION_UNSPECIFIED, METRIC_DIRECTION_HIGHER_IS_BETTER -> true;
            case METRIC_DIRECTION_LOWER_IS_BETTER -> false;
            default -> throw new InvalidParameterException("metric_direction: unknown value "
                    + p.getMetricDirectionValue());
        };
        int minVotes = bounded("min_votes", p.hasMinVotes() ? p.getMinVotes() : DEFAULT_MIN_VOTES, 1,
                MAX_PARTICIPANTS);
        if (p.getModelSchemaCount() == 0) {
            throw new InvalidParameterException("model_schema is empty: list every tensor of the model");
        }
        ModelSchema schema;
        try {
            schema = ModelSchema.fromProto(p.getModelSchemaList());
        } catch (IllegalArgumentException e) {
            throw new InvalidParameterException("model_schema: " + e.getMessage(), e);
        }
        if (p.getInitialModelSha256().size() != 32) {
            throw new InvalidParameterException("initial_model_sha256 must be the 32-byte SHA-256 of the initial"
                    + " model's file, got " + p.getInitialModelSha256().size() + " bytes");
        }
        OptionalDouble baseline = OptionalDouble.empty();
        if (p.hasBaselineMetric()) {
            if (!Double.isFinite(p.getBaselineMetric())) {
                throw new InvalidParameterException("baseline_metric must be finite, got " + p.getBaselineMetric());
            }
            baseline = OptionalDouble.of(p.getBaselineMetric());
        }
        Optional<ByteString> validationSet = Optional.empty();
        if (!p.getValidationSetSha256().isEmpty()) {
            if (p.getValidationSetSha256().size() != 32) {
                throw new InvalidParameterException("validation_set_sha256 must be the 32-byte SHA-256 of the"
                        + " validation set's file, got " + p.getValidationSetSha256().size() + " bytes");
            }
            DenseClassifierShape.Result classifier = DenseClassifierShape.of(schema);
            if (classifier.shape().isEmpty()) {
                throw new InvalidParameterException("validation_set_sha256 asks for server-side evaluation, which"
                        + " needs a dense classifier model (fc1.weight, fc1.bias, ...), but " + classifier.whyNot());
            }
            validationSet = Optional.of(p.getValidationSetSha256());
        }
        return new TaskRules(totalRounds, roundSeconds, minParticipants, maxParticipants, minStake, rewardPool,
                proposerFraction, committeeSize, weighted, rule, economics, slashFraction, penalty, higherIsBetter,
                minVotes, schema, p.getInitialModelSha256(), baseline, validationSet);
    }

    /** The complete parameters: every field set, so a reader needs no knowledge of the defaults. */
    public TaskParams toProto() {
        TaskParams.Builder b = TaskParams.newBuilder()
                .setTotalRounds(totalRounds)
                .setRoundSeconds(roundSeconds)
                .setMinParticipants(minParticipants)
                .setMaxParticipants(maxParticipants)
                .setMinStake(Tokens.format(minStake))
                .setRewardPool(Tokens.format(rewardPool))
                .setProposerFraction(proposerFraction.toString())
                .setCommitteeSize(committeeSize)
                .setStakeWeightedVotes(stakeWeightedVotes)
                .setRule(rule)
                .setEconomics(economics)
                .setSlashFraction(slashFraction.toString())
                .setPenalty(Tokens.format(penalty))
                .setMetricDirection(higherIsBetter ? MetricDirection.METRIC_DIRECTION_HIGHER_IS_BETTER
                        : MetricDirection.METRIC_DIRECTION_LOWER_IS_BETTER)
                .setMinVotes(minVotes)
                .addAllModelSchema(schema.toProto())
                .setInitialModelSha256(initialModelSha256);
        baselineMetric.ifPresent(b::setBaselineMetric);
        validationSet.ifPresent(b::setValidationSetSha256);
        return b.build();
    }

    /** The rule's name; never empty. */
    public String ruleName() {
        return rule.getName();
    }

    private static RuleSpec rule(RuleSpec given) {
        String name = given.getName().isEmpty() ? "fedavg" : given.getName();
        Set<String> allowed = RULE_PARAMETERS.get(name);
        if (allowed == null) {
            throw new InvalidParameterException("rule.name: unknown rule '" + name + "'; choose one of "
                    + String.join(", ", new java.util.TreeSet<>(RULE_PARAMETERS.keySet())));
        }
        Map<String, Boolean> present = Map.ofEntries(
                Map.entry("f", given.hasF()), Map.entry("k", given.hasK()), Map.entry("m", given.hasM()),
                Map.entry("c", given.hasC()), Map.entry("tau", given.hasTau()), Map.entry("iters", given.hasIters()),
                Map.entry("maxiter", given.hasMaxiter()), Map.entry("eps", given.hasEps()),
                Map.entry("tol", given.hasTol()), Map.entry("weight_by_samples", given.hasWeightBySamples()));
        for (Map.Entry<String, Boolean> parameter : present.entrySet()) {
            if (parameter.getValue() && !allowed.contains(parameter.getKey())) {
                throw new InvalidParameterException("rule." + parameter.getKey() + " does not apply to rule " + name);
            }
        }
        RuleSpec.Builder b = given.toBuilder().setName(name);
        switch (name) {
            case "trimmed_mean" -> require(given.hasK(), "trimmed_mean needs rule.k");
            case "krum", "bulyan" -> require(given.hasF(), name + " needs rule.f");
            case "multikrum" -> require(given.hasF() && given.hasM(), "multikrum needs rule.f and rule.m");
            case "norm_clip_mean" -> require(given.hasC() && given.getC() > 0 && Double.isFinite(given.getC()),
                    "norm_clip_mean needs rule.c, finite and above 0");
            case "centered_clip" -> {
                require(given.hasTau() && given.getTau() > 0 && Double.isFinite(given.getTau()),
                        "centered_clip needs rule.tau, finite and above 0");
                if (!given.hasIters()) {
                    b.setIters(org.murmur.kernels.api.RuleSpec.CenteredClip.DEFAULT_ITERS);
                }
                require(b.getIters() >= 1, "rule.iters must be at least 1");
            }
            case "geomedian" -> {
                if (!given.hasMaxiter()) {
                    b.setMaxiter(org.murmur.kernels.api.RuleSpec.GeoMedian.DEFAULT_MAX_ITER);
                }
                if (!given.hasEps()) {
                    b.setEps(org.murmur.kernels.api.RuleSpec.GeoMedian.DEFAULT_EPS);
                }
                if (!given.hasTol()) {
                    b.setTol(org.murmur.kernels.api.RuleSpec.GeoMedian.DEFAULT_TOL);
                }
                require(b.getMaxiter() >= 1, "rule.maxiter must be at least 1");
                require(b.getEps() > 0 && Double.isFinite(b.getEps()), "rule.eps must be finite and above 0");
                require(b.getTol() > 0 && Double.isFinite(b.getTol()), "rule.tol must be finite and above 0");
            }
            case "fedavg" -> {
                if (!given.hasWeightBySamples()) {
                    b.setWeightBySamples(false);
                }
            }
            default -> {
            }
        }
        return b.build();
    }

    private static void require(boolean condition, String message) {
        if (!condition) {
            throw new InvalidParameterException(message);
        }
    }

    private static int bounded(String field, long value, long min, long max) {
        if (value < min || value > max) {
            throw new InvalidParameterException(field + " must be between " + min + " and " + max + ", got "
                    + Integer.toUnsignedString((int) value));
        }
        return (int) value;
    }

    private static BigInteger amount(String field, String text, BigInteger fallback) {
        if (text == null) {
            return fallback;
        }
        try {
            return Tokens.parse(field, text);
        } catch (IllegalArgumentException e) {
            throw new InvalidParameterException(e.getMessage(), e);
        }
    }

    private static ExactDecimal fraction(String field, String text) {
        try {
            return ExactDecimal.parse(field, text);
        } catch (IllegalArgumentException e) {
            throw new InvalidParameterException(e.getMessage(), e);
        }
    }
}
