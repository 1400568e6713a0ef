package org.murmur.server.round;

import com.google.protobuf.ByteString;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.LongConsumer;
import java.util.function.LongSupplier;
import org.murmur.proto.identity.Purpose;
import org.murmur.proto.ledger.v1.CandidateProposed;
import org.murmur.proto.ledger.v1.Contributed;
import org.murmur.proto.ledger.v1.Joined;
import org.murmur.proto.ledger.v1.LedgerEvent;
import org.murmur.proto.ledger.v1.Staked;
import org.murmur.proto.ledger.v1.TaskCreated;
import org.murmur.proto.ledger.v1.VoteCommitted;
import org.murmur.proto.ledger.v1.VoteRevealed;
import org.murmur.proto.ledger.v1.Withdrawn;
import org.murmur.proto.v1.Phase;
import org.murmur.proto.v1.RefusalReason;
import org.murmur.server.economics.TaskRules;
import org.murmur.server.economics.Tokens;
import org.murmur.server.grpc.Refusal;
import org.murmur.server.ledger.CorruptLedgerException;
import org.murmur.server.ledger.LedgerFile;
import org.murmur.server.ledger.LedgerRecord;

/**
 * Runs one task: takes its requests, records each as a ledger event that is durable before the
 * request is answered, and drives the round through its phases as requests and deadlines come.
 *
 * <p>Every change goes the same way, under the engine's lock: bring the state up to date with the
 * clock (record every event the rules owe by now, {@link TaskState#nextDerived}), check the request
 * against the {@link TaskState}, check and apply its event to the state, append it to the ledger
 * (fsynced), then record whatever the rules owe after it. A failed append reloads the state from
 * the ledger, so the state never runs ahead of what is durable. Aggregation runs off the lock on
 * the aggregation executor; deadlines are timers on the scheduler. Event times never decrease
 * (the clock is clamped to the last event's time), so a replay sees the same times the engine saw.
 * Thread-safe.
 */
public final class TaskEngine implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(TaskEngine.class.getName());

    /** Told of every event once it is durable, in ledger order, under the engine's lock: must not block. */
    @FunctionalInterface
    public interface Listener {
        void recorded(LedgerRecord record, LedgerEvent event);
    }

    private final String taskId;
    private final LedgerFile ledger;
    private final LongSupplier clock;
    private final ScheduledExecutorService timers;
    private final Executor aggregations;
    private final CandidateMaker candidates;
    private final List<Listener> listeners = new CopyOnWriteArrayList<>();
    private volatile LongConsumer appendTimer = nanos -> { };
    private TaskState state;
    private ScheduledFuture<?> deadlineTimer;
    private long aggregatingRound = -1;
    private boolean closed;

    private TaskEngine(String taskId, LedgerFile ledger, TaskState state, LongSupplier clock,
                       ScheduledExecutorService timers, Executor aggregations, CandidateMaker candidates) {
        this.taskId = taskId;
        this.ledger = ledger;
        this.state = state;
        this.clock = clock;
        this.timers = timers;
        this.aggregations = aggregations;
        this.candidates = candidates;
    }

    /**
     * Opens the task whose ledger is {@code ledgerFile}, replaying it (a torn tail is repaired; a
     * ledger that breaks a rule is refused with a {@link CorruptLedgerException} naming the event),
     * then catches up with the clock: events owed while the server was down are recorded now, and an
     * interrupted aggregation is restarted.
     */
    public static TaskEngine open(Path ledgerFile, String taskId, LongSupplier clock, ScheduledExecutorService timers,
                                  Executor aggregations, CandidateMaker candidates) throws IOException {
        TaskState state = new TaskState(taskId);
        LedgerFile ledger;
        try {
            ledger = LedgerFile.open(ledgerFile, taskId, LedgerReplay.into(state, ledgerFile));
        } catch (LedgerReplay.UncheckedCorruption e) {
            throw e.getCause();
        }
        if (!state.created()) {
            ledger.close();
            throw new CorruptLedgerException(ledgerFile, -1, 0, "the ledger of task " + taskId
                    + " holds no TaskCreated event");
        }
        TaskEngine engine = new TaskEngine(taskId, ledger, state, clock, timers, aggregations, candidates);
        engine.start();
        return engine;
    }

    /**
     * Creates the task: a new ledger at {@code ledgerFile} whose first event is {@code created}
     * (already validated by the caller), durable before this returns.
     */
    public static TaskEngine create(Path ledgerFile, String taskId, TaskCreated created, LongSupplier clock,
                                    ScheduledExecutorService timers, Executor aggregations,
                                    CandidateMaker candidates) throws IOException {
        TaskState state = new TaskState(taskId);
        LedgerFile ledger = LedgerFile.open(ledgerFile, taskId, record -> {
            throw new LedgerViolation("a new task's ledger " + ledgerFile + " is not empty");
        });
        TaskEngine engine = new TaskEngine(taskId, ledger, state, clock, timers, aggregations, candidates);
        synchronized (engine) {
            engine.record(LedgerEvent.newBuilder().setTaskId(taskId).setRound(0).setTaskCreated(created).build(),
                    engine.now());
        }
        engine.start();
        return engine;
    }

    private synchronized void start() throws IOException {
        catchUp(now());
    }

    public String taskId() {
        return taskId;
    }

    public void addListener(Listener listener) {
        listeners.add(Objects.requireNonNull(listener, "listener"));
    }

    public void removeListener(Listener listener) {
        listeners.remove(listener);
    }

    /** Told how long each ledger append (write and fsync) took, in nanoseconds. */
    public void onAppend(LongConsumer timer) {
        appendTimer = Objects.requireNonNull(timer, "timer");
    }

    /** Runs {@code reader} on the current state under the engine's lock (no event is recorded meanwhile). */
    public synchronized <T> T read(Function<TaskState, T> reader) {
        return reader.apply(state);
    }

    /** A question to the state that may be refused. */
    @FunctionalInterface
    public interface Query<T> {
        T ask(TaskState state) throws Refusal;
    }

    /** Runs {@code query} on the current state under the engine's lock. */
    public synchronized <T> T query(Query<T> query) throws Refusal {
        return query.ask(state);
    }

    /**
     * Runs {@code reader} on the current state, then registers {@code listener}, atomically: the
     * listener hears every event after the state {@code reader} saw.
     */
    public synchronized <T> T readAndListen(Function<TaskState, T> reader, Listener listener) {
        T result = reader.apply(state);
        addListener(listener);
        return result;
    }

    /** The ledger file (for replaying past events to a watcher). */
    public Path ledgerPath() {
        return ledger.path();
    }

    // ------------------------------------------------------------------------------------------
    // Requests: each returns the ledger record of its event, durable

    public synchronized LedgerRecord stake(String node, ByteString publicKey, BigInteger amount, ByteString nonce)
            throws Refusal, IOException {
        long now = catchUp(now());
        state.checkStake(node, amount);
        requireFreshNonce(node, Purpose.STAKE, nonce);
        Staked.Builder staked = Staked.newBuilder().setNodeId(node).setAmount(Tokens.format(amount))
                .setTotalStake(Tokens.format(state.stake(node).add(amount))).setNonce(nonce);
        if (state.publicKey(node).isEmpty()) {
            staked.setPublicKey(publicKey);
        }
        return request(event(0).setStaked(staked), now);
    }

    public synchronized LedgerRecord join(String node, long round, ByteString nonce) throws Refusal, IOException {
        long now = catchUp(now());
        state.checkJoin(node, round);
        requireFreshNonce(node, Purpose.JOIN, nonce);
        return request(event(round).setJoined(Joined.newBuilder().setNodeId(node).setNonce(nonce)), now);
    }

    /** Checks that {@code node} may upload to {@code round} now (no event). */
    public synchronized void checkUpload(String node, long round) throws Refusal, IOException {
        catchUp(now());
        state.checkContribution(node, round);
    }

    public synchronized LedgerRecord contributed(String node, long round, ByteString sha256, long numSamples,
                                                 long bytes, ByteString nonce) throws Refusal, IOException {
        long now = catchUp(now());
        state.checkContribution(node, round);
        return request(event(round).setContributed(Contributed.newBuilder().setNodeId(node).setSha256(sha256)
                .setNumSamples(numSamples).setBytes(bytes).setNonce(nonce)), now);
    }

    public synchronized LedgerRecord commit(String node, long round, ByteString commitment, ByteString nonce)
            throws Refusal, IOException {
        long now = catchUp(now());
        state.checkCommit(node, round, commitment);
        requireFreshNonce(node, Purpose.COMMIT_VOTE, nonce);
        return request(event(round).setVoteCommitted(VoteCommitted.newBuilder().setVoterId(node)
                .setCommitment(commitment).setNonce(nonce)), now);
    }

    public synchronized LedgerRecord reveal(String node, long round, int score, double metric, ByteString salt,
                                            ByteString nonce) throws Refusal, IOException {
        long now = catchUp(now());
        state.checkReveal(node, round, score, metric, salt);
        requireFreshNonce(node, Purpose.REVEAL_VOTE, nonce);
        return request(event(round).setVoteRevealed(VoteRevealed.newBuilder().setVoterId(node).setScore(score)
                .setMetric(metric).setSalt(salt).setNonce(nonce)), now);
    }

    public synchronized LedgerRecord withdraw(String node, ByteString nonce) throws Refusal, IOException {
        long now = catchUp(now());
        BigInteger amount = state.checkWithdraw(node);
        requireFreshNonce(node, Purpose.WITHDRAW, nonce);
        return request(event(state.round()).setWithdrawn(Withdrawn.newBuilder().setNodeId(node)
                .setAmount(Tokens.format(amount)).setNonce(nonce)), now);
    }

    /** Records every event the rules owe by now (deadlines that passed); called by the deadline timer. */
    public synchronized void tick() throws IOException {
        catchUp(now());
    }

    @Override
    public synchronized void close() throws IOException {
        closed = true;
        if (deadlineTimer != null) {
            deadlineTimer.cancel(false);
        }
        ledger.close();
    }

    // ------------------------------------------------------------------------------------------
    // Internals (all under the lock)

    private void requireFreshNonce(String node, Purpose purpose, ByteString nonce) throws Refusal {
        if (state.nonceUsed(node, purpose, nonce)) {
            throw new Refusal(RefusalReason.REPLAYED_NONCE, "this " + purpose.tag() + " nonce of node " + node
                    + " was already used: sign every request with a fresh random nonce");
        }
    }

    private LedgerRecord request(LedgerEvent.Builder event, long now) throws IOException {
        LedgerRecord record = record(event.build(), now);
        catchUp(now);
        return record;
    }

    /** Records every owed event, then starts what the new state needs (aggregation, a deadline timer). */
    private long catchUp(long now) throws IOException {
        if (closed) {
            throw new IOException("task " + taskId + " is closed: the server is shutting down");
        }
        Optional<LedgerEvent> owed;
        while ((owed = state.nextDerived(now, ledger.head())).isPresent()) {
            record(owed.get(), now);
        }
        if (state.phase() == Phase.PHASE_AGGREGATE && state.candidate().isEmpty()
                && aggregatingRound != state.round()) {
            startAggregation();
        }
        scheduleDeadline();
        return now;
    }

    private LedgerRecord record(LedgerEvent event, long now) throws IOException {
        byte[] head = ledger.head();
        state.apply(event, now, head);
        LedgerRecord record;
        long started = System.nanoTime();
        try {
            record = ledger.append(LedgerEvents.type(event), now, event.toByteArray());
        } catch (IOException | RuntimeException e) {
            reload();
            throw e;
        }
        appendTimer.accept(System.nanoTime() - started);
        for (Listener listener : listeners) {
            try {
                listener.recorded(record, event);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "a listener of task " + taskId + " failed", e);
            }
        }
        return record;
    }

    /** Rebuilds the state from the ledger on disk after a failed append. */
    private void reload() throws IOException {
        TaskState fresh = new TaskState(taskId);
        try {
            LedgerFile.verify(ledger.path(), taskId, LedgerReplay.into(fresh, ledger.path()));
        } catch (LedgerReplay.UncheckedCorruption e) {
            throw e.getCause();
        }
        state = fresh;
    }

    private void startAggregation() {
        long round = state.round();
        List<Contributed> contributions = state.contributions();
        ByteString previousGlobal = state.globalModel();
        var rules = state.rules();
        aggregatingRound = round;
        try {
            aggregations.execute(() -> aggregate(round, rules, contributions, previousGlobal));
        } catch (RejectedExecutionException e) {
            aggregatingRound = -1;
            LOG.log(System.Logger.Level.WARNING, "task " + taskId + ": aggregation of round " + round
                    + " not started (the server is shutting down); it restarts with the server");
        }
    }

    private void aggregate(long round, TaskRules rules, List<Contributed> contributions,
                           ByteString previousGlobal) {
        LedgerEvent outcome;
        try {
            CandidateMaker.Candidate candidate = candidates.make(taskId, round, rules, contributions, previousGlobal);
            CandidateProposed.Builder proposed = CandidateProposed.newBuilder().setSha256(candidate.sha256())
                    .setRule(rules.ruleName()).addAllScores(candidate.scores());
            candidate.serverMetric().ifPresent(proposed::setServerMetric);
            contributions.forEach(c -> proposed.addContributors(c.getNodeId()));
            outcome = event(round).setCandidateProposed(proposed).build();
        } catch (CandidateMaker.RoundFailedException e) {
            synchronized (this) {
                outcome = state.failed("aggregation failed: " + e.getMessage());
            }
        } catch (Exception e) {
            LOG.log(System.Logger.Level.ERROR, "task " + taskId + ": aggregating round " + round
                    + " failed; retrying in 5 s", e);
            synchronized (this) {
                if (!closed) {
                    timers.schedule(this::retryAggregation, 5, TimeUnit.SECONDS);
                }
            }
            return;
        }
        synchronized (this) {
            if (closed || state.round() != round || state.phase() != Phase.PHASE_AGGREGATE
                    || state.candidate().isPresent()) {
                return;
            }
            try {
                long now = now();
                record(outcome, now);
                catchUp(now);
            } catch (IOException | RuntimeException e) {
                LOG.log(System.Logger.Level.ERROR, "task " + taskId + ": recording the candidate of round " + round
                        + " failed; aggregating again in 5 s", e);
                aggregatingRound = -1;
                timers.schedule(this::retryAggregation, 5, TimeUnit.SECONDS);
            }
        }
    }

    private synchronized void retryAggregation() {
        aggregatingRound = -1;
        try {
            catchUp(now());
        } catch (IOException e) {
            LOG.log(System.Logger.Level.ERROR, "task " + taskId + ": catching up failed", e);
        }
    }

    private void scheduleDeadline() {
        if (deadlineTimer != null) {
            deadlineTimer.cancel(false);
            deadlineTimer = null;
        }
        long deadline = state.deadline();
        if (deadline == 0 || state.finished()) {
            return;
        }
        long delay = Math.max(0, deadline - clock.getAsLong());
        try {
            deadlineTimer = timers.schedule(() -> {
                try {
                    tick();
                } catch (IOException e) {
                    LOG.log(System.Logger.Level.ERROR, "task " + taskId + ": a deadline could not be recorded", e);
                }
            }, delay, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            deadlineTimer = null;
        }
    }

    private long now() {
        return Math.max(clock.getAsLong(), state.lastEventTime());
    }

    private LedgerEvent.Builder event(long round) {
        return LedgerEvent.newBuilder().setTaskId(taskId).setRound(round);
    }
}
