package org.murmur.server.round;

import com.google.protobuf.ByteString;
import java.math.BigInteger;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeMap;
import org.murmur.proto.VoteCommitment;
import org.murmur.proto.identity.Purpose;
import org.murmur.proto.ledger.v1.CandidateProposed;
import org.murmur.proto.ledger.v1.Contributed;
import org.murmur.proto.ledger.v1.Joined;
import org.murmur.proto.ledger.v1.LedgerEvent;
import org.murmur.proto.ledger.v1.PhaseChanged;
import org.murmur.proto.ledger.v1.RolesDrawn;
import org.murmur.proto.ledger.v1.RoundFinished;
import org.murmur.proto.ledger.v1.StakeSnapshot;
import org.murmur.proto.ledger.v1.Staked;
import org.murmur.proto.ledger.v1.TaskCreated;
import org.murmur.proto.ledger.v1.TaskFinished;
import org.murmur.proto.ledger.v1.VoteCommitted;
import org.murmur.proto.ledger.v1.VoteRevealed;
import org.murmur.proto.ledger.v1.Withdrawn;
import org.murmur.proto.v1.Phase;
import org.murmur.proto.v1.RefusalReason;
import org.murmur.proto.v1.RoundResult;
import org.murmur.server.economics.RoleDraw;
import org.murmur.server.economics.Settlement;
import org.murmur.server.economics.Tally;
import org.murmur.server.economics.TaskRules;
import org.murmur.server.economics.Tokens;
import org.murmur.server.grpc.Refusal;

/**
 * One task's state as the replay of its ledger: stakes, rewards, pool, removals, the round in
 * progress and the models. It is the FL Alliance state machine of fl-alliance.md in one place:
 *
 * <ul>
 *   <li>{@code check*} methods answer whether a request is allowed now (a {@link Refusal} if not);
 *   <li>{@link #nextDerived} says which event the server owes next at a given time (a role draw, a
 *       phase change at a deadline, a tally, a settlement, the task's end), as a pure function of
 *       the state, the time and the ledger head;
 *   <li>{@link #apply} checks an event against those same rules (a request event must pass its
 *       check, a derived event must equal the one {@code nextDerived} computes) and only then changes
 *       the state. A ledger that breaks a rule is reported with a {@link LedgerViolation}.
 * </ul>
 *
 * <p>So the server, a restart and {@code murmur ledger verify} run the same code: replaying a
 * ledger recomputes every role draw, tally and settlement, and conservation is checked after every
 * event. Not thread-safe: its owner (the task's engine) serializes access.
 */
public final class TaskState {
    private static final HexFormat HEX = HexFormat.of();

    /**
     * The latest time an event may carry: 9999-12-31T23:59:59.999Z in epoch milliseconds. Every
     * deadline is an event's time plus a round window (at most 2^31 s), which then fits in a long.
     */
    public static final long MAX_EVENT_TIME = 253_402_300_799_999L;

    private final String taskId;
    private TaskRules rules;
    private String creatorId;

    private final Map<String, BigInteger> stakes = new LinkedHashMap<>();
    private final Map<String, BigInteger> rewards = new LinkedHashMap<>();
    private final Map<String, ByteString> publicKeys = new HashMap<>();
    private final Set<String> removed = new LinkedHashSet<>();
    private final Set<String> usedNonces = new HashSet<>();
    private BigInteger pool = BigInteger.ZERO;
    private BigInteger deposits = BigInteger.ZERO;
    private BigInteger withdrawn = BigInteger.ZERO;
    private BigInteger creatorPool = BigInteger.ZERO;

    private ByteString globalModel = ByteString.EMPTY;
    private final TreeMap<Long, ByteString> acceptedGlobals = new TreeMap<>();
    private final Map<Long, ByteString> candidates = new HashMap<>();

    private long round;
    private Phase phase = Phase.PHASE_UNSPECIFIED;
    private long deadline;
    private final List<String> joined = new ArrayList<>();
    private RoleDraw draw;
    private final Map<String, BigInteger> snapshot = new LinkedHashMap<>();
    private final Map<String, Contributed> contributions = new LinkedHashMap<>();
    private CandidateProposed candidate;
    private final Map<String, ByteString> commitments = new LinkedHashMap<>();
    private final Map<String, VoteRevealed> reveals = new LinkedHashMap<>();
    private final Map<Long, Roles> pastRoles = new HashMap<>();
    private final Deque<LedgerEvent> owedSettlement = new ArrayDeque<>();
    private boolean finished;
    private long lastEventTime = Long.MIN_VALUE;
    private long events;

    public TaskState(String taskId) {
        this.taskId = taskId;
    }

    // ------------------------------------------------------------------------------------------
    // Queries

    public String taskId() {
        return taskId;
    }

    /** The task's rules; null before TaskCreated. */
    public TaskRules rules() {
        return rules;
    }

    public String creatorId() {
        return creatorId;
    }

    public boolean created() {
        return rules != null;
    }

    public boolean finished() {
        return finished;
    }

    public long round() {
        return round;
    }

    public Phase phase() {
        return phase;
    }

    /** When the current phase's window closes (epoch ms); 0 when it has none. */
    public long deadline() {
        return deadline;
    }

    public BigInteger pool() {
        return pool;
    }

    public BigInteger stake(String node) {
        return stakes.getOrDefault(node, BigInteger.ZERO);
    }

    public BigInteger reward(String node) {
        return rewards.getOrDefault(node, BigInteger.ZERO);
    }

    public Map<String, BigInteger> stakes() {
        return Map.copyOf(stakes);
    }

    /** Rewards earned and not withdrawn, all nodes together. */
    public BigInteger unclaimedRewards() {
        BigInteger total = BigInteger.ZERO;
        for (BigInteger reward : rewards.values()) {
            total = total.add(reward);
        }
        return total;
    }

    public boolean isRemoved(String node) {
        return removed.contains(node);
    }

    public Optional<ByteString> publicKey(String node) {
        return Optional.ofNullable(publicKeys.get(node));
    }

    /** The roles of the current round; empty before its draw. */
    public Optional<RoleDraw> draw() {
        return Optional.ofNullable(draw);
    }

    public List<String> joined() {
        return List.copyOf(joined);
    }

    public BigInteger snapshotStake(String node) {
        return snapshot.getOrDefault(node, BigInteger.ZERO);
    }

    /** Updates admitted to the current round, in admission order. */
    public List<Contributed> contributions() {
        return List.copyOf(contributions.values());
    }

    /** The current round's candidate; empty before aggregation. */
    public Optional<CandidateProposed> candidate() {
        return Optional.ofNullable(candidate);
    }

    public Set<String> committedVoters() {
        return Set.copyOf(commitments.keySet());
    }

    public Map<String, VoteRevealed> reveals() {
        return Map.copyOf(reveals);
    }

    /** SHA-256 of the current global model. */
    public ByteString globalModel() {
        return globalModel;
    }

    /** The global model after {@code r}: the last one accepted at or before r, or the initial model. */
    public ByteString globalModelAfter(long r) {
        Map.Entry<Long, ByteString> floor = acceptedGlobals.floorEntry(r);
        return floor == null ? rules.initialModelSha256() : floor.getValue();
    }

    /** The last round whose candidate was accepted; 0 when none was. */
    public long lastAcceptedRound() {
        return acceptedGlobals.isEmpty() ? 0 : acceptedGlobals.lastKey();
    }

    /** The last round at or before {@code r} whose candidate was accepted. */
    public OptionalLong acceptedRoundAtOrBefore(long r) {
        Long key = acceptedGlobals.floorKey(r);
        return key == null ? OptionalLong.empty() : OptionalLong.of(key);
    }

    /** Whether round {@code r} (unsigned) has ended. */
    public boolean roundOver(long r) {
        return finished || Long.compareUnsigned(r, round) < 0 || (r == round && phase == Phase.PHASE_FINISHED);
    }

    /**
     * The roles of a round and the stakes snapshotted at its draw.
     *
     * @param draw   the draw
     * @param stakes every joined node's stake at the draw
     */
    public record Roles(RoleDraw draw, Map<String, BigInteger> stakes) {
        public Roles {
            stakes = Map.copyOf(stakes);
        }
    }

    /** The roles drawn in round {@code r}; empty before its draw, or when the round failed before it. */
    public Optional<Roles> rolesOf(long r) {
        if (r == round && draw != null) {
            return Optional.of(new Roles(draw, snapshot));
        }
        return Optional.ofNullable(pastRoles.get(r));
    }

    public Optional<ByteString> candidateOf(long r) {
        return Optional.ofNullable(candidates.get(r));
    }

    /** Events applied so far. */
    public long events() {
        return events;
    }

    /** Time of the last event applied (epoch ms); event times never decrease. */
    public long lastEventTime() {
        return lastEventTime;
    }

    /** Whether the nonce was already used by this node for this purpose in this task. */
    public boolean nonceUsed(String node, Purpose purpose, ByteString nonce) {
        return usedNonces.contains(nonceKey(node, purpose, nonce));
    }

    // ------------------------------------------------------------------------------------------
    // Request checks: the same rules for a live request and for its event on replay

    public void checkStake(String node, BigInteger amount) throws Refusal {
        requireCreated();
        if (finished) {
            throw new Refusal(RefusalReason.TASK_FINISHED, "task " + taskId + " is finished: stakes are closed;"
                    + " withdraw instead");
        }
        if (removed.contains(node)) {
            throw new Refusal(RefusalReason.NODE_REMOVED, "node " + node + " was removed from task " + taskId
                    + " (its stake fell below min_stake) and cannot stake again");
        }
        if (amount.signum() <= 0) {
            throw new Refusal(RefusalReason.INVALID_PARAMETER, "amount must be positive, got " + amount);
        }
    }

    public void checkJoin(String node, long joinRound) throws Refusal {
        requireCreated();
        requireNotFinished();
        if (joinRound != round || phase != Phase.PHASE_JOIN || draw != null) {
            throw new Refusal(RefusalReason.WRONG_PHASE, "round " + Long.toUnsignedString(joinRound) + " of task "
                    + taskId + " is not taking joins: the task is in round " + round + ", phase "
                    + phaseName() + "; join the round whose join phase is open (see GetTask or WatchRound)");
        }
        if (removed.contains(node)) {
            throw new Refusal(RefusalReason.NODE_REMOVED, "node " + node + " was removed from task " + taskId);
        }
        BigInteger stake = stake(node);
        if (stake.signum() == 0) {
            throw new Refusal(RefusalReason.NOT_STAKED, "node " + node + " has no stake in task " + taskId
                    + ": Stake at least " + rules.minStake() + " first");
        }
        if (stake.compareTo(rules.minStake()) < 0) {
            throw new Refusal(RefusalReason.BELOW_MIN_STAKE, "node " + node + " has a stake of " + stake
                    + ", below the task's min_stake of " + rules.minStake() + ": stake more to join");
        }
        if (joined.contains(node)) {
            throw new Refusal(RefusalReason.ALREADY_JOINED, "node " + node + " already joined round " + round);
        }
        if (joined.size() >= rules.maxParticipants()) {
            throw new Refusal(RefusalReason.TASK_FULL, "round " + round + " already has max_participants ("
                    + rules.maxParticipants() + ") nodes");
        }
    }

    /** Whether {@code node} may contribute to {@code r} now; the refusal names the reason. */
    public void checkContribution(String node, long r) throws Refusal {
        requireCreated();
        if (Long.compareUnsigned(r, rules.totalRounds()) >= 0) {
            throw new Refusal(RefusalReason.UNKNOWN_ROUND, "task " + taskId + " has rounds 0 to "
                    + (rules.totalRounds() - 1) + ", not " + Long.toUnsignedString(r));
        }
        if (r != round || finished) {
            boolean past = Long.compareUnsigned(r, round) < 0 || finished;
            throw new Refusal(past ? RefusalReason.DEADLINE_PASSED : RefusalReason.WRONG_PHASE, "round "
                    + Long.toUnsignedString(r) + " of task " + taskId + (past ? " is over" : " has not started"));
        }
        if (phase != Phase.PHASE_CONTRIBUTE) {
            boolean past = phase.getNumber() > Phase.PHASE_CONTRIBUTE.getNumber();
            throw new Refusal(past ? RefusalReason.DEADLINE_PASSED : RefusalReason.WRONG_PHASE, "round " + r
                    + " of task " + taskId + " is in phase " + phaseName() + ", not taking updates"
                    + (past ? " any more" : " yet"));
        }
        if (removed.contains(node)) {
            throw new Refusal(RefusalReason.NODE_REMOVED, "node " + node + " was removed from task " + taskId);
        }
        if (stake(node).signum() == 0) {
            throw new Refusal(RefusalReason.NOT_STAKED, "node " + node + " has no stake in task " + taskId);
        }
        if (!draw.proposers().contains(node)) {
            throw new Refusal(RefusalReason.NOT_PROPOSER, "node " + node + " is not a proposer of round " + r
                    + " of task " + taskId + (joined.contains(node) ? "" : " (it did not join the round)"));
        }
        if (contributions.containsKey(node)) {
            throw new Refusal(RefusalReason.DUPLICATE_UPDATE, "node " + node + " already contributed to round " + r);
        }
    }

    public void checkCommit(String node, long r, ByteString commitment) throws Refusal {
        requireVotingRound(r, Phase.PHASE_COMMIT);
        if (!draw.voters().contains(node)) {
            throw new Refusal(RefusalReason.NOT_VOTER, "node " + node + " is not a voter of round " + r);
        }
        if (commitments.containsKey(node)) {
            throw new Refusal(RefusalReason.DUPLICATE_VOTE, "node " + node + " already committed in round " + r);
        }
        if (commitment.size() != 32) {
            throw new Refusal(RefusalReason.MALFORMED_REQUEST, "commitment must be 32 bytes (a SHA-256), got "
                    + commitment.size());
        }
    }

    public void checkReveal(String node, long r, int score, double metric, ByteString salt) throws Refusal {
        requireVotingRound(r, Phase.PHASE_REVEAL);
        if (!draw.voters().contains(node)) {
            throw new Refusal(RefusalReason.NOT_VOTER, "node " + node + " is not a voter of round " + r);
        }
        ByteString commitment = commitments.get(node);
        if (commitment == null) {
            throw new Refusal(RefusalReason.NOT_COMMITTED, "node " + node + " did not commit a vote in round " + r
                    + ": a vote is revealed only after its commitment");
        }
        if (reveals.containsKey(node)) {
            throw new Refusal(RefusalReason.DUPLICATE_VOTE, "node " + node + " already revealed in round " + r);
        }
        if (score != 1 && score != -1) {
            throw new Refusal(RefusalReason.INVALID_PARAMETER, "score must be +1 or -1, got " + score);
        }
        if (!Double.isFinite(metric)) {
            throw new Refusal(RefusalReason.INVALID_PARAMETER, "metric must be finite, got " + metric);
        }
        if (salt.size() < 16 || salt.size() > 64) {
            throw new Refusal(RefusalReason.MALFORMED_REQUEST, "salt must be 16 to 64 bytes, got " + salt.size());
        }
        byte[] expected = VoteCommitment.of(taskId, r, node, candidate.getSha256().toByteArray(), score, metric,
                salt.toByteArray());
        if (!ByteString.copyFrom(expected).equals(commitment)) {
            throw new Refusal(RefusalReason.REVEAL_MISMATCH, "the reveal (score " + score + ", metric " + metric
                    + ", salt) does not match the commitment of node " + node + " in round " + r
                    + ": reveal exactly what was committed");
        }
    }

    public BigInteger checkWithdraw(String node) throws Refusal {
        requireCreated();
        if (!finished) {
            throw new Refusal(RefusalReason.TASK_NOT_FINISHED, "task " + taskId + " is in round " + round + " of "
                    + rules.totalRounds() + ": stakes are withdrawn once it has finished");
        }
        BigInteger amount = stake(node).add(reward(node));
        if (amount.signum() == 0) {
            throw new Refusal(RefusalReason.NOT_STAKED, "node " + node + " has nothing to withdraw from task "
                    + taskId);
        }
        return amount;
    }

    // ------------------------------------------------------------------------------------------
    // What the server owes next

    /**
     * The event the server must record next at time {@code now}, given the ledger's head hash
     * {@code head}; empty when nothing is due (the state waits for requests, a deadline, or an
     * aggregation). For a time after {@link #MAX_EVENT_TIME}, which {@link #apply} refuses, a
     * deadline it computes saturates at Long.MAX_VALUE.
     */
    public Optional<LedgerEvent> nextDerived(long now, byte[] head) {
        if (!created() || finished) {
            return Optional.empty();
        }
        if (!owedSettlement.isEmpty()) {
            return Optional.of(owedSettlement.peek());
        }
        boolean due = deadline != 0 && now >= deadline;
        switch (phase) {
            case PHASE_JOIN -> {
                if (draw != null) {
                    return Optional.of(phaseChanged(round, Phase.PHASE_CONTRIBUTE, now));
                }
                int n = joined.size();
                boolean enough = n >= rules.minParticipants();
                if (n >= rules.maxParticipants() || (enough && n == eligibleNodes()) || (enough && due)) {
                    return Optional.of(rolesDrawn(head));
                }
                if (due) {
                    return Optional.of(failed(n + " node(s) joined, fewer than min_participants ("
                            + rules.minParticipants() + ")"));
                }
            }
            case PHASE_CONTRIBUTE -> {
                int proposers = draw.proposers().size();
                if (contributions.size() == proposers || (due && !contributions.isEmpty())) {
                    return Optional.of(phaseChanged(round, Phase.PHASE_AGGREGATE, 0));
                }
                if (due) {
                    return Optional.of(failed("no proposer sent an update before the contribute deadline"));
                }
            }
            case PHASE_AGGREGATE -> {
                if (candidate != null) {
                    return Optional.of(phaseChanged(round, Phase.PHASE_COMMIT, now));
                }
            }
            case PHASE_COMMIT -> {
                if (commitments.size() == draw.voters().size() || due) {
                    return Optional.of(phaseChanged(round, Phase.PHASE_REVEAL, now));
                }
            }
            case PHASE_REVEAL -> {
                if (reveals.size() == commitments.size() || due) {
                    return Optional.of(tallied());
                }
            }
            case PHASE_FINISHED -> {
                if (round + 1 < rules.totalRounds()) {
                    return Optional.of(phaseChanged(round + 1, Phase.PHASE_JOIN, now));
                }
                return Optional.of(event(round).setTaskFinished(TaskFinished.newBuilder()
                        .setPoolReturned(Tokens.format(pool))).build());
            }
            default -> {
            }
        }
        return Optional.empty();
    }

    private int eligibleNodes() {
        int eligible = 0;
        for (Map.Entry<String, BigInteger> stake : stakes.entrySet()) {
            if (!removed.contains(stake.getKey()) && stake.getValue().compareTo(rules.minStake()) >= 0) {
                eligible++;
            }
        }
        return eligible;
    }

    private LedgerEvent rolesDrawn(byte[] head) {
        byte[] seed = RoleDraw.seed(head, taskId, round);
        RoleDraw roles = RoleDraw.draw(seed, joined, rules.proposerFraction(), rules.committeeSize());
        RolesDrawn.Builder drawn = RolesDrawn.newBuilder().setSeed(ByteString.copyFrom(seed))
                .addAllProposers(roles.proposers()).addAllVoters(roles.voters());
        for (String node : joined) {
            drawn.addStakes(StakeSnapshot.newBuilder().setNodeId(node).setStake(Tokens.format(stake(node))));
        }
        return event(round).setRolesDrawn(drawn).build();
    }

    private LedgerEvent tallied() {
        Map<String, Integer> scores = new HashMap<>();
        reveals.forEach((voter, reveal) -> scores.put(voter, reveal.getScore()));
        Tally tally = Tally.of(draw.voters(), scores, snapshot, rules.stakeWeightedVotes(), rules.minVotes());
        ByteString after = tally.result() == RoundResult.ROUND_RESULT_ACCEPTED ? candidate.getSha256() : globalModel;
        return event(round).setRoundFinished(RoundFinished.newBuilder().setResult(tally.result())
                .setTally(tally.value().toString()).setVotesRevealed(tally.revealed())
                .setGlobalModelSha256(after)).build();
    }

    /** A failed round: no change, no settlement. */
    public LedgerEvent failed(String reason) {
        return event(round).setRoundFinished(RoundFinished.newBuilder().setResult(RoundResult.ROUND_RESULT_FAILED)
                .setTally("0").setGlobalModelSha256(globalModel).setReason(reason)).build();
    }

    private LedgerEvent phaseChanged(long r, Phase next, long now) {
        long window = rules.roundSeconds() * 1000L;
        long until = now == 0 ? 0 : now > Long.MAX_VALUE - window ? Long.MAX_VALUE : now + window;
        return event(r).setPhaseChanged(PhaseChanged.newBuilder().setPhase(next).setDeadlineUnixMs(until)).build();
    }

    private LedgerEvent.Builder event(long r) {
        return LedgerEvent.newBuilder().setTaskId(taskId).setRound(r);
    }

    // ------------------------------------------------------------------------------------------
    // Applying events

    /**
     * Checks {@code e}, recorded at {@code time} with the ledger head {@code head} before it, against
     * the rules, then applies it. Throws {@link LedgerViolation} naming the rule when the event is not
     * allowed here; the state is then unchanged.
     */
    public void apply(LedgerEvent e, long time, byte[] head) {
        if (!e.getTaskId().equals(taskId)) {
            throw new LedgerViolation("event of task '" + e.getTaskId() + "' in the ledger of task " + taskId);
        }
        if (time < lastEventTime) {
            throw new LedgerViolation("event time " + time + " is before the previous event's " + lastEventTime);
        }
        if (time > MAX_EVENT_TIME) {
            throw new LedgerViolation("event time " + time + " is after " + MAX_EVENT_TIME
                    + " (the end of year 9999): no clock wrote it, and its deadlines would not fit in a long");
        }
        if (!created() && e.getEventCase() != LedgerEvent.EventCase.TASK_CREATED) {
            throw new LedgerViolation("the first event must be TaskCreated, got " + e.getEventCase());
        }
        try {
            switch (e.getEventCase()) {
                case TASK_CREATED -> applyCreated(e.getTaskCreated(), time);
                case STAKED -> applyStaked(e.getStaked(), time, head);
                case JOINED -> applyJoined(e, time, head);
                case CONTRIBUTED -> applyContributed(e, time, head);
                case CANDIDATE_PROPOSED -> applyCandidate(e);
                case VOTE_COMMITTED -> applyCommitted(e, time, head);
                case VOTE_REVEALED -> applyRevealed(e, time, head);
                case WITHDRAWN -> applyWithdrawn(e.getWithdrawn(), time, head);
                case ROUND_FINISHED -> applyRoundFinished(e, time, head);
                case ROLES_DRAWN, PHASE_CHANGED, REWARDED, SLASHED, REMOVED, TASK_FINISHED ->
                        applyDerived(e, time, head);
                default -> throw new LedgerViolation("unknown event " + e.getEventCase());
            }
        } catch (Refusal refusal) {
            throw new LedgerViolation(e.getEventCase() + " is not allowed here: " + refusal.getMessage());
        }
        lastEventTime = time;
        events++;
        checkConservation();
    }

    private void applyCreated(TaskCreated created, long time) {
        if (created()) {
            throw new LedgerViolation("a second TaskCreated");
        }
        TaskRules parsed;
        try {
            parsed = TaskRules.fromProto(created.getParams());
        } catch (IllegalArgumentException ex) {
            throw new LedgerViolation("TaskCreated holds invalid parameters: " + ex.getMessage());
        }
        if (!parsed.toProto().equals(created.getParams())) {
            throw new LedgerViolation("TaskCreated's parameters are not complete (every default filled in)");
        }
        rules = parsed;
        creatorId = created.getCreatorId();
        useNonce(creatorId, Purpose.CREATE_TASK, created.getNonce());
        pool = rules.rewardPool();
        creatorPool = rules.rewardPool();
        globalModel = rules.initialModelSha256();
        round = 0;
        phase = Phase.PHASE_JOIN;
        deadline = Math.addExact(time, rules.roundSeconds() * 1000L);
    }

    private void applyStaked(Staked staked, long time, byte[] head) throws Refusal {
        requireNothingDue(time, head);
        String node = staked.getNodeId();
        BigInteger amount = parseAmount("amount", staked.getAmount());
        checkStake(node, amount);
        requireFreshNonce(node, Purpose.STAKE, staked.getNonce());
        if (!publicKeys.containsKey(node) && staked.getPublicKey().isEmpty()) {
            throw new LedgerViolation("the first Staked event of node " + node + " carries no public key");
        }
        BigInteger total = stake(node).add(amount);
        if (!total.equals(parseAmount("total_stake", staked.getTotalStake()))) {
            throw new LedgerViolation("Staked total_stake " + staked.getTotalStake() + " is not the node's stake "
                    + stake(node) + " plus " + amount);
        }
        publicKeys.putIfAbsent(node, staked.getPublicKey());
        useNonce(node, Purpose.STAKE, staked.getNonce());
        stakes.put(node, total);
        deposits = deposits.add(amount);
    }

    private void applyJoined(LedgerEvent e, long time, byte[] head) throws Refusal {
        requireNothingDue(time, head);
        Joined j = e.getJoined();
        checkJoin(j.getNodeId(), e.getRound());
        requireFreshNonce(j.getNodeId(), Purpose.JOIN, j.getNonce());
        useNonce(j.getNodeId(), Purpose.JOIN, j.getNonce());
        joined.add(j.getNodeId());
    }

    private void applyContributed(LedgerEvent e, long time, byte[] head) throws Refusal {
        requireNothingDue(time, head);
        Contributed c = e.getContributed();
        checkContribution(c.getNodeId(), e.getRound());
        if (c.getSha256().size() != 32 || c.getNumSamples() < 1 || c.getBytes() < 1) {
            throw new LedgerViolation("Contributed of node " + c.getNodeId() + " lacks its sha256, samples or size");
        }
        contributions.put(c.getNodeId(), c);
    }

    private void applyCandidate(LedgerEvent e) {
        CandidateProposed proposed = e.getCandidateProposed();
        if (e.getRound() != round || phase != Phase.PHASE_AGGREGATE || candidate != null) {
            throw new LedgerViolation("CandidateProposed outside round " + round + "'s aggregate phase");
        }
        if (!proposed.getContributorsList().equals(List.copyOf(contributions.keySet()))) {
            throw new LedgerViolation("CandidateProposed lists contributors " + proposed.getContributorsList()
                    + " but round " + round + " admitted " + contributions.keySet());
        }
        if (proposed.getSha256().size() != 32) {
            throw new LedgerViolation("CandidateProposed carries no 32-byte sha256");
        }
        if (!proposed.getRule().equals(rules.ruleName())) {
            throw new LedgerViolation("CandidateProposed names rule '" + proposed.getRule() + "' but task " + taskId
                    + " aggregates with " + rules.ruleName());
        }
        candidate = proposed;
        candidates.put(round, proposed.getSha256());
    }

    private void applyCommitted(LedgerEvent e, long time, byte[] head) throws Refusal {
        requireNothingDue(time, head);
        VoteCommitted c = e.getVoteCommitted();
        checkCommit(c.getVoterId(), e.getRound(), c.getCommitment());
        requireFreshNonce(c.getVoterId(), Purpose.COMMIT_VOTE, c.getNonce());
        useNonce(c.getVoterId(), Purpose.COMMIT_VOTE, c.getNonce());
        commitments.put(c.getVoterId(), c.getCommitment());
    }

    private void applyRevealed(LedgerEvent e, long time, byte[] head) throws Refusal {
        requireNothingDue(time, head);
        VoteRevealed r = e.getVoteRevealed();
        checkReveal(r.getVoterId(), e.getRound(), r.getScore(), r.getMetric(), r.getSalt());
        requireFreshNonce(r.getVoterId(), Purpose.REVEAL_VOTE, r.getNonce());
        useNonce(r.getVoterId(), Purpose.REVEAL_VOTE, r.getNonce());
        reveals.put(r.getVoterId(), r);
    }

    private void applyWithdrawn(Withdrawn w, long time, byte[] head) throws Refusal {
        requireNothingDue(time, head);
        BigInteger amount = checkWithdraw(w.getNodeId());
        if (!amount.equals(parseAmount("amount", w.getAmount()))) {
            throw new LedgerViolation("Withdrawn pays " + w.getAmount() + " to node " + w.getNodeId()
                    + " but its stake plus rewards are " + amount);
        }
        requireFreshNonce(w.getNodeId(), Purpose.WITHDRAW, w.getNonce());
        useNonce(w.getNodeId(), Purpose.WITHDRAW, w.getNonce());
        stakes.put(w.getNodeId(), BigInteger.ZERO);
        rewards.remove(w.getNodeId());
        withdrawn = withdrawn.add(amount);
    }

    /**
     * A failed aggregation ends the round in the aggregate phase (only its reason is free, every other
     * field is what {@link #failed} writes); every other RoundFinished is derived.
     */
    private void applyRoundFinished(LedgerEvent e, long time, byte[] head) {
        boolean aggregationFailed = phase == Phase.PHASE_AGGREGATE && candidate == null
                && e.getRoundFinished().getResult() == RoundResult.ROUND_RESULT_FAILED
                && !e.getRoundFinished().getReason().isEmpty();
        if (aggregationFailed) {
            LedgerEvent expected = failed(e.getRoundFinished().getReason());
            if (!expected.equals(e)) {
                throw new LedgerViolation("a failed aggregation ends round " + round + " with " + describe(expected)
                        + ", but the ledger holds " + describe(e));
            }
            finishRound(e.getRoundFinished());
        } else {
            applyDerived(e, time, head);
        }
    }

    private void applyDerived(LedgerEvent e, long time, byte[] head) {
        LedgerEvent expected = nextDerived(time, head).orElseThrow(() -> new LedgerViolation(
                e.getEventCase() + " for round " + e.getRound() + " when the rules owe no event (phase "
                        + phaseName() + " of round " + round + ")"));
        boolean failedByDeadline = expected.hasRoundFinished() && e.hasRoundFinished()
                && expected.getRoundFinished().getResult() == RoundResult.ROUND_RESULT_FAILED
                && e.getRoundFinished().getResult() == RoundResult.ROUND_RESULT_FAILED;
        if (failedByDeadline) {
            expected = expected.toBuilder().setRoundFinished(expected.getRoundFinished().toBuilder()
                    .setReason(e.getRoundFinished().getReason())).build();
        }
        if (!expected.equals(e)) {
            throw new LedgerViolation("the rules owe " + describe(expected) + " here, but the ledger holds "
                    + describe(e));
        }
        switch (e.getEventCase()) {
            case ROLES_DRAWN -> {
                RolesDrawn d = e.getRolesDrawn();
                draw = new RoleDraw(d.getSeed().toByteArray(), d.getProposersList(), d.getVotersList());
                for (StakeSnapshot s : d.getStakesList()) {
                    snapshot.put(s.getNodeId(), new BigInteger(s.getStake()));
                }
            }
            case PHASE_CHANGED -> {
                if (e.getRound() != round) {
                    startRound(e.getRound());
                }
                phase = e.getPhaseChanged().getPhase();
                deadline = e.getPhaseChanged().getDeadlineUnixMs();
            }
            case ROUND_FINISHED -> finishRound(e.getRoundFinished());
            case REWARDED -> {
                owedSettlement.poll();
                BigInteger amount = new BigInteger(e.getRewarded().getAmount());
                rewards.merge(e.getRewarded().getNodeId(), amount, BigInteger::add);
                pool = pool.subtract(amount);
            }
            case SLASHED -> {
                owedSettlement.poll();
                BigInteger amount = new BigInteger(e.getSlashed().getAmount());
                stakes.merge(e.getSlashed().getNodeId(), amount.negate(), BigInteger::add);
                pool = pool.add(amount);
            }
            case REMOVED -> {
                owedSettlement.poll();
                removed.add(e.getRemoved().getNodeId());
            }
            case TASK_FINISHED -> {
                withdrawn = withdrawn.add(pool);
                pool = BigInteger.ZERO;
                finished = true;
                phase = Phase.PHASE_FINISHED;
                deadline = 0;
            }
            default -> throw new AssertionError(e.getEventCase());
        }
    }

    private void finishRound(RoundFinished finished) {
        RoundResult result = finished.getResult();
        if (result == RoundResult.ROUND_RESULT_ACCEPTED) {
            globalModel = finished.getGlobalModelSha256();
            acceptedGlobals.put(round, globalModel);
        }
        if (result != RoundResult.ROUND_RESULT_FAILED) {
            Map<String, Integer> scores = new HashMap<>();
            reveals.forEach((voter, reveal) -> scores.put(voter, reveal.getScore()));
            owedSettlement.addAll(Settlement.settle(taskId, rules, new Settlement.Round(round, pool,
                    Map.copyOf(snapshot), Map.copyOf(stakes), draw.proposers(), Set.copyOf(contributions.keySet()),
                    draw.voters(), scores, result)));
        }
        phase = Phase.PHASE_FINISHED;
        deadline = 0;
    }

    private void startRound(long next) {
        if (draw != null) {
            pastRoles.put(round, new Roles(draw, snapshot));
        }
        round = next;
        joined.clear();
        draw = null;
        snapshot.clear();
        contributions.clear();
        candidate = null;
        commitments.clear();
        reveals.clear();
    }

    /** Tokens are conserved: stakes + unclaimed rewards + pool + withdrawn = the creator's pool + deposits. */
    private void checkConservation() {
        BigInteger held = pool.add(withdrawn);
        for (BigInteger s : stakes.values()) {
            held = held.add(s);
        }
        for (BigInteger r : rewards.values()) {
            held = held.add(r);
        }
        BigInteger brought = creatorPool.add(deposits);
        if (!held.equals(brought) || pool.signum() < 0) {
            throw new LedgerViolation("tokens are not conserved: stakes + rewards + pool + withdrawn = " + held
                    + " but the creator's pool + deposits = " + brought);
        }
    }

    // ------------------------------------------------------------------------------------------
    // Helpers

    private void requireNothingDue(long time, byte[] head) {
        Optional<LedgerEvent> due = nextDerived(time, head);
        if (due.isPresent()) {
            throw new LedgerViolation("a request was recorded while the rules owed " + describe(due.get()));
        }
    }

    private void requireCreated() throws Refusal {
        if (!created()) {
            throw new Refusal(RefusalReason.UNKNOWN_TASK, "task " + taskId + " does not exist");
        }
    }

    private void requireNotFinished() throws Refusal {
        if (finished) {
            throw new Refusal(RefusalReason.TASK_FINISHED, "task " + taskId + " is finished");
        }
    }

    private void requireVotingRound(long r, Phase wanted) throws Refusal {
        requireCreated();
        if (r != round || finished) {
            boolean past = Long.compareUnsigned(r, round) < 0 || finished;
            throw new Refusal(past ? RefusalReason.DEADLINE_PASSED : RefusalReason.WRONG_PHASE, "round "
                    + Long.toUnsignedString(r) + " of task " + taskId + (past ? " is over" : " has not started"));
        }
        if (phase != wanted) {
            boolean past = phase.getNumber() > wanted.getNumber();
            throw new Refusal(past ? RefusalReason.DEADLINE_PASSED : RefusalReason.WRONG_PHASE, "round " + r
                    + " is in phase " + phaseName() + ", not " + wanted.name().substring("PHASE_".length())
                    .toLowerCase() + (past ? ": its window has closed" : ": wait for it (WatchRound)"));
        }
    }

    private void requireFreshNonce(String node, Purpose purpose, ByteString nonce) {
        if (nonce.size() < 16 || nonce.size() > 64) {
            throw new LedgerViolation(purpose.tag() + " event of node " + node + " carries a nonce of "
                    + nonce.size() + " bytes");
        }
        if (nonceUsed(node, purpose, nonce)) {
            throw new LedgerViolation(purpose.tag() + " nonce " + HEX.formatHex(nonce.toByteArray())
                    + " of node " + node + " is used twice");
        }
    }

    private void useNonce(String node, Purpose purpose, ByteString nonce) {
        usedNonces.add(nonceKey(node, purpose, nonce));
    }

    private static String nonceKey(String node, Purpose purpose, ByteString nonce) {
        return node + '/' + purpose.tag() + '/' + HEX.formatHex(nonce.toByteArray());
    }

    private static BigInteger parseAmount(String field, String text) {
        try {
            return Tokens.parse(field, text);
        } catch (IllegalArgumentException ex) {
            throw new LedgerViolation(ex.getMessage());
        }
    }

    private String phaseName() {
        return phase.name().startsWith("PHASE_") ? phase.name().substring(6).toLowerCase() : phase.name();
    }

    private static String describe(LedgerEvent e) {
        return e.getEventCase() + " {" + e.toString().replaceAll("\\s+", " ").trim() + "}";
    }
}
