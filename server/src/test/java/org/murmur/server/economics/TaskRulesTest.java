package org.murmur.server.economics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import java.math.BigInteger;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.murmur.proto.v1.DType;
import org.murmur.proto.v1.Economics;
import org.murmur.proto.v1.MetricDirection;
import org.murmur.proto.v1.RuleSpec;
import org.murmur.proto.v1.TaskParams;
import org.murmur.proto.v1.TensorSpec;

/** TaskRules against the parameter table of fl-alliance.md: defaults, refusals, and the ledger's round trip. */
class TaskRulesTest {

    @Test
    void everyDefaultIsTheSpecTables() {
        TaskRules rules = TestParams.rules(TestParams.minimal());
        assertEquals(10, rules.totalRounds(), "total_rounds T");
        assertEquals(600, rules.roundSeconds(), "round_seconds");
        assertEquals(3, rules.minParticipants(), "min_participants");
        assertEquals(1000, rules.maxParticipants(), "max_participants");
        assertEquals(new BigInteger("10000000000000000000"), rules.minStake(), "min_stake: 10 tokens");
        assertEquals(new BigInteger("1000000000000000000000"), rules.rewardPool(), "reward_pool: 1000 tokens");
        assertEquals(ExactDecimal.parse("x", "0.2"), rules.proposerFraction(), "proposer_fraction rho");
        assertEquals(0, rules.committeeSize(), "committee_size: 0 = all non-proposers");
        assertTrue(rules.stakeWeightedVotes(), "stake_weighted_votes");
        assertEquals("fedavg", rules.ruleName(), "rule");
        assertFalse(rules.rule().getWeightBySamples(), "fedavg is unweighted, as FLock's");
        assertEquals(Economics.ECONOMICS_PRO_RATA, rules.economics(), "economics");
        assertEquals(ExactDecimal.parse("x", "0.1"), rules.slashFraction(), "slash_fraction alpha");
        assertEquals(new BigInteger("8000000000000000000"), rules.penalty(), "penalty gamma: 8 tokens");
        assertTrue(rules.higherIsBetter(), "metric_direction: higher");
        assertEquals(1, rules.minVotes(), "min_votes");
        assertTrue(rules.baselineMetric().isEmpty(), "baseline_metric");
        assertEquals(TestParams.INITIAL_MODEL, rules.initialModelSha256());
    }

    @Test
    void theRecordedParametersCarryEveryDefaultExplicitly() {
        TaskParams p = TestParams.rules(TestParams.minimal()).toProto();
        assertTrue(p.hasTotalRounds() && p.hasRoundSeconds() && p.hasMinParticipants() && p.hasMaxParticipants()
                && p.hasMinStake() && p.hasRewardPool() && p.hasProposerFraction() && p.hasCommitteeSize()
                && p.hasStakeWeightedVotes() && p.hasRule() && p.hasSlashFraction() && p.hasPenalty()
                && p.hasMinVotes(), "every optional field is set: " + p);
        assertEquals(10, p.getTotalRounds());
        assertEquals("10000000000000000000", p.getMinStake());
        assertEquals("1000000000000000000000", p.getRewardPool());
        assertEquals("0.2", p.getProposerFraction());
        assertEquals("0.1", p.getSlashFraction());
        assertEquals("8000000000000000000", p.getPenalty());
        assertEquals("fedavg", p.getRule().getName());
        assertEquals(Economics.ECONOMICS_PRO_RATA, p.getEconomics());
        assertEquals(MetricDirection.METRIC_DIRECTION_HIGHER_IS_BETTER, p.getMetricDirection());
        assertFalse(p.hasBaselineMetric(), "an absent baseline stays absent");
    }

    @Test
    void explicitValuesAreKept() {
        TaskRules rules = TestParams.rules(everythingSet());
        assertEquals(4, rules.totalRounds());
        assertEquals(30, rules.roundSeconds());
        assertEquals(2, rules.minParticipants());
        assertEquals(7, rules.maxParticipants());
        assertEquals(BigInteger.valueOf(64), rules.minStake());
        assertEquals(BigInteger.valueOf(5000), rules.rewardPool());
        assertEquals(ExactDecimal.parse("x", "0.5"), rules.proposerFraction());
        assertEquals(3, rules.committeeSize());
        assertFalse(rules.stakeWeightedVotes());
        assertEquals("trimmed_mean", rules.ruleName());
        assertEquals(1, rules.rule().getK());
        assertEquals(Economics.ECONOMICS_FIXED_PENALTY, rules.economics());
        assertEquals(ExactDecimal.parse("x", "0.25"), rules.slashFraction());
        assertEquals(BigInteger.valueOf(8), rules.penalty());
        assertFalse(rules.higherIsBetter());
        assertEquals(2, rules.minVotes());
        assertEquals(0.75, rules.baselineMetric().orElseThrow());
    }

    @Test
    void toProtoAndFromProtoRoundTrip() {
        for (TaskParams.Builder given : new TaskParams.Builder[] {TestParams.minimal(), everythingSet(),
                TestParams.minimal().setRule(RuleSpec.newBuilder().setName("geomedian")),
                TestParams.minimal().setRule(RuleSpec.newBuilder().setName("centered_clip").setTau(1.5)),
                TestParams.minimal().setRule(RuleSpec.newBuilder().setName("multikrum").setF(1).setM(3)),
                TestParams.minimal().setProposerFraction("0.250").setSlashFraction("1.0"),
                // a schema given out of name order is recorded in name order
                TestParams.minimal().clearModelSchema()
                        .addModelSchema(TensorSpec.newBuilder().setName("z").setDtype(DType.DTYPE_BF16).addShape(3))
                        .addModelSchema(TensorSpec.newBuilder().setName("a").setDtype(DType.DTYPE_F16))}) {
            TaskRules rules = TaskRules.fromProto(given.build());
            TaskParams recorded = rules.toProto();
            assertEquals(rules, TaskRules.fromProto(recorded), "fromProto(toProto()) equals the original: " + given);
            assertEquals(recorded, TaskRules.fromProto(recorded).toProto(), "toProto is a fixed point: " + given);
        }
    }

    @Test
    void everyInvalidParameterIsRefusedByName() {
        Map<String, Consumer<TaskParams.Builder>> cases = new LinkedHashMap<>();
        cases.put("total_rounds", p -> p.setTotalRounds(0));
        cases.put("round_seconds", p -> p.setRoundSeconds(0));
        cases.put("min_participants", p -> p.setMinParticipants(0));
        cases.put("max_participants", p -> p.setMinParticipants(5).setMaxParticipants(4));
        cases.put("min_stake", p -> p.setMinStake("0"));
        cases.put("min_stake ", p -> p.setMinStake("-1"));
        cases.put("min_stake  ", p -> p.setMinStake("1.5"));
        cases.put("reward_pool", p -> p.setRewardPool("01"));
        cases.put("reward_pool ", p -> p.setRewardPool("1e21"));
        cases.put("proposer_fraction", p -> p.setProposerFraction("0"));
        cases.put("proposer_fraction ", p -> p.setProposerFraction("1.5"));
        cases.put("proposer_fraction  ", p -> p.setProposerFraction("0.2.1"));
        cases.put("proposer_fraction   ", p -> p.setProposerFraction(""));
        cases.put("proposer_fraction    ", p -> p.setProposerFraction("0.1234567890123456789"));
        cases.put("committee_size", p -> p.setCommitteeSize(-1));
        cases.put("slash_fraction", p -> p.setSlashFraction("1.1"));
        cases.put("slash_fraction ", p -> p.setSlashFraction("-0.1"));
        cases.put("penalty", p -> p.setPenalty("-8"));
        cases.put("min_votes", p -> p.setMinVotes(0));
        cases.put("model_schema", TaskParams.Builder::clearModelSchema);
        cases.put("model_schema ", p -> p.addModelSchema(TensorSpec.newBuilder().setName("w")
                .setDtype(DType.DTYPE_F32)));
        cases.put("model_schema  ", p -> p.addModelSchema(TensorSpec.newBuilder().setName("v")));
        cases.put("initial_model_sha256", TaskParams.Builder::clearInitialModelSha256);
        cases.put("initial_model_sha256 ", p -> p.setInitialModelSha256(ByteString.copyFrom(new byte[31])));
        cases.put("baseline_metric", p -> p.setBaselineMetric(Double.NaN));
        cases.put("baseline_metric ", p -> p.setBaselineMetric(Double.POSITIVE_INFINITY));
        cases.put("economics", p -> p.setEconomicsValue(99));
        cases.put("metric_direction", p -> p.setMetricDirectionValue(99));
        cases.put("rule.name", p -> p.setRule(RuleSpec.newBuilder().setName("mean")));
        cases.put("rule.f", p -> p.setRule(RuleSpec.newBuilder().setName("fedavg").setF(1)));
        cases.put("rule.k", p -> p.setRule(RuleSpec.newBuilder().setName("trimmed_mean")));
        cases.put("rule.c", p -> p.setRule(RuleSpec.newBuilder().setName("norm_clip_mean").setC(-1)));
        cases.put("rule.tau", p -> p.setRule(RuleSpec.newBuilder().setName("centered_clip")));
        cases.put("rule.eps", p -> p.setRule(RuleSpec.newBuilder().setName("geomedian").setEps(0)));
        for (Map.Entry<String, Consumer<TaskParams.Builder>> c : cases.entrySet()) {
            String field = c.getKey().strip();
            TaskParams.Builder params = TestParams.minimal();
            c.getValue().accept(params);
            InvalidParameterException e = assertThrows(InvalidParameterException.class,
                    () -> TaskRules.fromProto(params.build()), field + " must be refused: " + params);
            assertTrue(e.getMessage().contains(field), "the refusal names " + field + ": " + e.getMessage());
        }
    }

    @Test
    void boundaryValuesThatTheSpecAllowsAreAccepted() {
        // alpha in [0, 1]; rho in (0, 1] (one proposer at least); min = max participants; T = 1.
        TaskRules.fromProto(TestParams.minimal().setSlashFraction("0").build());
        TaskRules.fromProto(TestParams.minimal().setSlashFraction("1").build());
        TaskRules.fromProto(TestParams.minimal().setProposerFraction("1").build());
        TaskRules.fromProto(TestParams.minimal().setProposerFraction("0.000000000000000001").build());
        TaskRules.fromProto(TestParams.minimal().setMinParticipants(4).setMaxParticipants(4).build());
        TaskRules.fromProto(TestParams.minimal().setTotalRounds(1).build());
        TaskRules.fromProto(TestParams.minimal().setRewardPool("0").setPenalty("0").build());
    }

    static TaskParams.Builder everythingSet() {
        return TestParams.minimal().setTotalRounds(4).setRoundSeconds(30).setMinParticipants(2).setMaxParticipants(7)
                .setMinStake("64").setRewardPool("5000").setProposerFraction("0.5").setCommitteeSize(3)
                .setStakeWeightedVotes(false).setRule(RuleSpec.newBuilder().setName("trimmed_mean").setK(1))
                .setEconomics(Economics.ECONOMICS_FIXED_PENALTY).setSlashFraction("0.25").setPenalty("8")
                .setMetricDirection(MetricDirection.METRIC_DIRECTION_LOWER_IS_BETTER).setMinVotes(2)
                .setBaselineMetric(0.75);
    }
}
