package org.murmur.server.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.murmur.proto.ledger.v1.LedgerEvent;
import org.murmur.proto.ledger.v1.SettlementReason;
import org.murmur.proto.v1.Phase;
import org.murmur.proto.v1.RoundResult;
import org.murmur.server.economics.Tokens;
import org.murmur.server.ledger.LedgerRecord;
import org.murmur.server.round.LedgerEvents;
import org.murmur.server.round.TaskEngine;
import org.murmur.server.round.TaskRegistry;
import org.murmur.server.round.TaskState;

/**
 * Rounds, economics and the ledger as meters: counters fed by every ledger event once it is durable
 * (rounds finished by result, votes, rewards and slashes in tokens by reason, removals, events by
 * type; every result and settlement reason at zero from the start),
 * the ledger's append latency, and gauges read from the tasks at scrape time (tasks by state and
 * phase, tokens staked, in pools, unclaimed). Token amounts are reported in whole tokens (a double:
 * precise to far below one token for any realistic supply). Tags have few values: result, phase,
 * reason, event type; never a task, node or round. Thread-safe.
 */
public final class RoundMetrics implements MeterBinder, TaskEngine.Listener {
    public static final String ROUNDS_FINISHED = "murmur.rounds.finished";
    public static final String ROUND_DURATION = "murmur.rounds.duration";
    public static final String TASKS = "murmur.tasks";
    public static final String TASKS_IN_PHASE = "murmur.rounds.phase.tasks";
    public static final String VOTES = "murmur.votes";
    public static final String VOTE_SUPPORT = "murmur.rounds.vote.support";
    public static final String CANDIDATE_METRIC = "murmur.rounds.candidate.metric";
    public static final String SERVER_METRIC = "murmur.rounds.candidate.server.metric";
    public static final String UPDATES_CONTRIBUTED = "murmur.rounds.contributions";
    public static final String STAKED = "murmur.economics.staked.tokens";
    public static final String POOL = "murmur.economics.pool.tokens";
    public static final String UNCLAIMED = "murmur.economics.unclaimed.tokens";
    public static final String DEPOSITED = "murmur.economics.deposited.tokens";
    public static final String REWARDED = "murmur.economics.rewarded.tokens";
    public static final String SLASHED = "murmur.economics.slashed.tokens";
    public static final String SLASHES = "murmur.economics.slashes";
    public static final String REMOVED = "murmur.economics.nodes.removed";
    public static final String WITHDRAWN = "murmur.economics.withdrawn.tokens";
    public static final String LEDGER_EVENTS = "murmur.ledger.events";
    public static final String LEDGER_APPEND = "murmur.ledger.append.duration";

    private static final BigDecimal ONE_TOKEN = new BigDecimal(Tokens.ONE);

    private final TaskRegistry tasks;
    private MeterRegistry registry;
    private final Map<RoundResult, Counter> finished = new EnumMap<>(RoundResult.class);
    private final Map<String, Counter> events = new ConcurrentHashMap<>();
    private final Map<String, Counter> rewardedByReason = new ConcurrentHashMap<>();
    private final Map<String, Counter> slashedByReason = new ConcurrentHashMap<>();
    private final Map<String, Counter> slashesByReason = new ConcurrentHashMap<>();
    private final Map<String, Long> roundStarted = new ConcurrentHashMap<>();
    private Counter committed;
    private Counter revealed;
    private Counter contributions;
    private Counter deposited;
    private Counter removed;
    private Counter withdrawn;
    private DistributionSummary support;
    private DistributionSummary candidateMetric;
    private DistributionSummary serverMetric;
    private Timer roundDuration;
    private Timer append;

    public RoundMetrics(TaskRegistry tasks) {
        this.tasks = tasks;
    }

    @Override
    public void bindTo(MeterRegistry meters) {
        registry = meters;
        for (RoundResult result : new RoundResult[] {RoundResult.ROUND_RESULT_ACCEPTED,
                RoundResult.ROUND_RESULT_REJECTED, RoundResult.ROUND_RESULT_VOID, RoundResult.ROUND_RESULT_FAILED}) {
            finished.put(result, Counter.builder(ROUNDS_FINISHED).tag("result", name(result.name(), "ROUND_RESULT_"))
                    .description("Rounds finished, by result").register(meters));
        }
        committed = Counter.builder(VOTES).tag("stage", "committed").description("Votes committed and revealed")
                .register(meters);
        revealed = Counter.builder(VOTES).tag("stage", "revealed").description("Votes committed and revealed")
                .register(meters);
        contributions = Counter.builder(UPDATES_CONTRIBUTED).description("Updates admitted to rounds")
                .register(meters);
        for (SettlementReason reason : new SettlementReason[] {SettlementReason.ACCEPTED_PROPOSER,
                SettlementReason.AGREEING_VOTER, SettlementReason.SLASH_SHARE}) {
            rewarded(reason);
        }
        for (SettlementReason reason : new SettlementReason[] {SettlementReason.REJECTED_PROPOSER,
                SettlementReason.DISAGREEING_VOTER, SettlementReason.NO_SHOW}) {
            slashed(reason);
            slashes(reason);
        }
        deposited = Counter.builder(DEPOSITED).baseUnit("tokens").description("Tokens staked by deposits")
                .register(meters);
        removed = Counter.builder(REMOVED).description("Nodes removed from tasks: their stake fell below min_stake")
                .register(meters);
        withdrawn = Counter.builder(WITHDRAWN).baseUnit("tokens")
                .description("Tokens withdrawn by nodes after their task finished").register(meters);
        support = DistributionSummary.builder(VOTE_SUPPORT)
                .description("Share of a decided round's revealed vote weight that voted for its candidate, in"
                        + " [0, 1]; at least 0.5 accepts")
                .serviceLevelObjectives(0.25, 0.5, 0.75, 1).register(meters);
        candidateMetric = DistributionSummary.builder(CANDIDATE_METRIC)
                .description("Metric the voters measured on each candidate (mean of a round's revealed votes)")
                .register(meters);
        serverMetric = DistributionSummary.builder(SERVER_METRIC)
                .description("Accuracy of each candidate on its task's validation set, scored by the server")
                .register(meters);
        roundDuration = Timer.builder(ROUND_DURATION).description("Time from a round's join phase to its result")
                .publishPercentileHistogram().minimumExpectedValue(Duration.ofMillis(10))
                .maximumExpectedValue(Duration.ofHours(4)).register(meters);
        append = Timer.builder(LEDGER_APPEND).description("Ledger appends: write and fsync of one event")
                .publishPercentileHistogram().minimumExpectedValue(Duration.ofMillis(1))
                .maximumExpectedValue(Duration.ofSeconds(10)).register(meters);
        Gauge.builder(TASKS, () -> count(false)).tag("state", "running").description("Tasks by state")
                .register(meters);
        Gauge.builder(TASKS, () -> count(true)).tag("state", "finished").description("Tasks by state")
                .register(meters);
        for (Phase phase : new Phase[] {Phase.PHASE_JOIN, Phase.PHASE_CONTRIBUTE, Phase.PHASE_AGGREGATE,
                Phase.PHASE_COMMIT, Phase.PHASE_REVEAL, Phase.PHASE_FINISHED}) {
            Gauge.builder(TASKS_IN_PHASE, () -> inPhase(phase)).tag("phase", name(phase.name(), "PHASE_"))
                    .description("Running tasks whose current round is in each phase").register(meters);
        }
        Gauge.builder(STAKED, () -> tokens(TaskState::stakes)).baseUnit("tokens")
                .description("Tokens staked in all tasks").register(meters);
        Gauge.builder(POOL, () -> sum(TaskState::pool)).baseUnit("tokens")
                .description("Tokens left in the reward pools of all tasks").register(meters);
        Gauge.builder(UNCLAIMED, () -> sum(TaskState::unclaimedRewards)).baseUnit("tokens")
                .description("Rewards earned and not withdrawn yet").register(meters);
        tasks.onAppend(nanos -> append.record(nanos, TimeUnit.NANOSECONDS));
        tasks.addListener(this);
    }

    @Override
    public void recorded(LedgerRecord record, LedgerEvent event) {
        events.computeIfAbsent(LedgerEvents.type(event), type -> Counter.builder(LEDGER_EVENTS).tag("type", type)
                .description("Ledger events recorded, by type").register(registry)).increment();
        String round = event.getTaskId() + '/' + event.getRound();
        switch (event.getEventCase()) {
            case TASK_CREATED -> roundStarted.put(round, record.timeUnixMs());
            case PHASE_CHANGED -> {
                if (event.getPhaseChanged().getPhase() == Phase.PHASE_JOIN) {
                    roundStarted.put(round, record.timeUnixMs());
                }
            }
            case STAKED -> deposited.increment(tokens(new BigInteger(event.getStaked().getAmount())));
            case CONTRIBUTED -> contributions.increment();
            case CANDIDATE_PROPOSED -> {
                if (event.getCandidateProposed().hasServerMetric()) {
                    serverMetric.record(event.getCandidateProposed().getServerMetric());
                }
            }
            case VOTE_COMMITTED -> committed.increment();
            case VOTE_REVEALED -> revealed.increment();
            case ROUND_FINISHED -> roundFinished(record, event, round);
            case REWARDED -> rewarded(event.getRewarded().getReason())
                    .increment(tokens(new BigInteger(event.getRewarded().getAmount())));
            case SLASHED -> {
                slashed(event.getSlashed().getReason())
                        .increment(tokens(new BigInteger(event.getSlashed().getAmount())));
                slashes(event.getSlashed().getReason()).increment();
            }
            case REMOVED -> removed.increment();
            case WITHDRAWN -> withdrawn.increment(tokens(new BigInteger(event.getWithdrawn().getAmount())));
            default -> {
            }
        }
    }

    private Counter rewarded(SettlementReason reason) {
        return rewardedByReason.computeIfAbsent(name(reason.name(), ""), r -> Counter.builder(REWARDED)
                .tag("reason", r).baseUnit("tokens").description("Tokens paid as rewards, by reason")
                .register(registry));
    }

    private Counter slashed(SettlementReason reason) {
        return slashedByReason.computeIfAbsent(name(reason.name(), ""), r -> Counter.builder(SLASHED)
                .tag("reason", r).baseUnit("tokens").description("Tokens slashed, by reason").register(registry));
    }

    private Counter slashes(SettlementReason reason) {
        return slashesByReason.computeIfAbsent(name(reason.name(), ""), r -> Counter.builder(SLASHES)
                .tag("reason", r).description("Slashes, by reason").register(registry));
    }

    private void roundFinished(LedgerRecord record, LedgerEvent event, String round) {
        finished.get(event.getRoundFinished().getResult()).increment();
        Long started = roundStarted.remove(round);
        if (started != null) {
            roundDuration.record(Math.max(0, record.timeUnixMs() - started), TimeUnit.MILLISECONDS);
        }
        tasks.forTask(event.getTaskId(), state -> {
            double weight = 0;
            double metricSum = 0;
            int votes = 0;
            for (var reveal : state.reveals().entrySet()) {
                weight += state.rules().stakeWeightedVotes()
                        ? tokens(state.snapshotStake(reveal.getKey())) : 1;
                metricSum += reveal.getValue().getMetric();
                votes++;
            }
            if (votes > 0) {
                candidateMetric.record(metricSum / votes);
                double tally = new BigDecimal(event.getRoundFinished().getTally())
                        .divide(state.rules().stakeWeightedVotes() ? ONE_TOKEN : BigDecimal.ONE).doubleValue();
                RoundResult result = event.getRoundFinished().getResult();
                if (weight > 0 && (result == RoundResult.ROUND_RESULT_ACCEPTED
                        || result == RoundResult.ROUND_RESULT_REJECTED)) {
                    support.record((1 + tally / weight) / 2);
                }
            }
        });
    }

    private double count(boolean finishedTasks) {
        int[] n = {0};
        tasks.forEachState(state -> n[0] += state.finished() == finishedTasks ? 1 : 0);
        return n[0];
    }

    private double inPhase(Phase phase) {
        int[] n = {0};
        tasks.forEachState(state -> n[0] += !state.finished() && state.phase() == phase ? 1 : 0);
        return n[0];
    }

    private double tokens(java.util.function.Function<TaskState, Map<String, BigInteger>> amounts) {
        BigInteger[] total = {BigInteger.ZERO};
        tasks.forEachState(state -> amounts.apply(state).values().forEach(v -> total[0] = total[0].add(v)));
        return tokens(total[0]);
    }

    private double sum(java.util.function.Function<TaskState, BigInteger> amount) {
        BigInteger[] total = {BigInteger.ZERO};
        tasks.forEachState(state -> total[0] = total[0].add(amount.apply(state)));
        return tokens(total[0]);
    }

    static double tokens(BigInteger units) {
        return new BigDecimal(units).divide(ONE_TOKEN).doubleValue();
    }

    private static String name(String constant, String prefix) {
        return constant.substring(prefix.length()).toLowerCase(Locale.ROOT);
    }
}
