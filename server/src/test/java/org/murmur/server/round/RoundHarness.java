package org.murmur.server.round;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.function.Executable;
import org.murmur.proto.VoteCommitment;
import org.murmur.proto.ledger.v1.LedgerEvent;
import org.murmur.proto.ledger.v1.TaskCreated;
import org.murmur.proto.ledger.v1.Withdrawn;
import org.murmur.proto.v1.RefusalReason;
import org.murmur.proto.v1.TaskParams;
import org.murmur.server.economics.ExactDecimal;
import org.murmur.server.economics.RoleDraw;
import org.murmur.server.economics.TaskRules;
import org.murmur.server.economics.TestParams;
import org.murmur.server.grpc.Refusal;
import org.murmur.server.ledger.LedgerFile;
import org.murmur.server.ledger.LedgerRecord;

/**
 * One task under test: a {@link TaskEngine} over a ledger file, driven by a manual clock (nothing
 * happens at a deadline until the test moves the clock and calls {@link #tick}), a fake candidate
 * maker, and either a direct or a {@link ManualExecutor} for aggregations. Node ids are 40-hex
 * strings, nonces and salts 16 bytes, all derived from counters so two runs of the same script
 * write byte-identical ledgers. Also plays the voters' side: it remembers what each voter committed
 * so it can reveal it.
 */
final class RoundHarness implements AutoCloseable {
    private static final HexFormat HEX = HexFormat.of();
    static final String TASK = "task-7";
    static final String CREATOR = hexId("creator");
    static final long START = 1_700_000_000_000L;
    /** Deadline timers: real time never reaches them, since the manual clock sets their delay. */
    static final ScheduledExecutorService TIMERS = timers();

    /** What a voter committed, kept to reveal it. */
    record Vote(long round, int score, double metric, ByteString salt, ByteString commitment) {
    }

    final Path ledger;
    final AtomicLong clock = new AtomicLong(START);
    final FakeCandidates candidates = new FakeCandidates();
    final Executor aggregations;
    final Map<String, Vote> votes = new HashMap<>();
    private TaskEngine engine;
    private long counter;

    private RoundHarness(Path ledger, Executor aggregations) {
        this.ledger = ledger;
        this.aggregations = aggregations;
    }

    /** A new task with {@code params} (defaults filled in as TaskRegistry does), aggregating on the calling thread. */
    static RoundHarness create(Path dir, TaskParams.Builder params) throws IOException {
        return create(dir, params, Runnable::run);
    }

    static RoundHarness create(Path dir, TaskParams.Builder params, Executor aggregations) throws IOException {
        RoundHarness h = new RoundHarness(dir.resolve("task.ledger"), aggregations);
        TaskCreated created = TaskCreated.newBuilder().setParams(TaskRules.fromProto(params.build()).toProto())
                .setCreatorId(CREATOR).setCreatorPublicKey(TestParams.sha256("creator key")).setNonce(h.nonce())
                .build();
        h.engine = TaskEngine.create(h.ledger, TASK, created, h.clock::get, TIMERS, aggregations, h.candidates);
        return h;
    }

    TaskEngine engine() {
        return engine;
    }

    /** Closes the engine and opens it again from its ledger, as a restart does; pending aggregations are lost. */
    void reopen() throws IOException {
        reopen(true);
    }

    /**
     * Closes the engine and opens it again from its ledger. With {@code dropPending} false, an
     * aggregation the closed engine had queued stays queued, as a slow one would still finish after
     * a close.
     */
    void reopen(boolean dropPending) throws IOException {
        engine.close();
        if (dropPending && aggregations instanceof ManualExecutor manual) {
            manual.clear();
        }
        engine = TaskEngine.open(ledger, TASK, clock::get, TIMERS, aggregations, candidates);
    }

    @Override
    public void close() throws IOException {
        engine.close();
    }

    // ------------------------------------------------------------------------------------------ ids

    static String hexId(String name) {
        return HEX.formatHex(TestParams.sha256(name).toByteArray(), 0, 20);
    }

    static List<String> nodes(int n) {
        List<String> nodes = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            nodes.add(hexId("node " + i));
        }
        return nodes;
    }

    /** A fresh 16-byte nonce; the same sequence in every harness. */
    ByteString nonce() {
        return ByteString.copyFrom(TestParams.sha256("nonce " + counter++).toByteArray(), 0, 16);
    }

    static ByteString publicKey(String node) {
        return TestParams.sha256("public key of " + node);
    }

    // ------------------------------------------------------------------------------------------ state

    TaskState state() {
        return engine.read(s -> s);
    }

    StateView view() {
        return engine.read(StateView::of);
    }

    TaskRules rules() {
        return engine.read(TaskState::rules);
    }

    long round() {
        return engine.read(TaskState::round);
    }

    RoleDraw draw() {
        return engine.read(s -> s.draw().orElseThrow(() -> new AssertionError("no draw in round " + s.round()
                + ", phase " + s.phase())));
    }

    ByteString candidate() {
        return engine.read(s -> s.candidate().orElseThrow().getSha256());
    }

    long events() {
        return engine.read(TaskState::events);
    }

    BigInteger stake(String node) {
        return engine.read(s -> s.stake(node));
    }

    BigInteger reward(String node) {
        return engine.read(s -> s.reward(node));
    }

    // ------------------------------------------------------------------------------------------ time

    /** Moves the clock by {@code ms} and records whatever the rules owe by then. */
    void advance(long ms) throws IOException {
        clock.addAndGet(ms);
        engine.tick();
    }

    /** Moves the clock to the current phase's deadline and records whatever it brings. */
    void passDeadline() throws IOException {
        long deadline = engine.read(TaskState::deadline);
        if (deadline == 0) {
            throw new AssertionError("the phase has no deadline");
        }
        clock.set(Math.max(clock.get(), deadline));
        engine.tick();
    }

    // ------------------------------------------------------------------------------------------ requests

    LedgerRecord stake(String node, BigInteger amount) throws Refusal, IOException {
        return engine.stake(node, publicKey(node), amount, nonce());
    }

    LedgerRecord join(String node) throws Refusal, IOException {
        return engine.join(node, round(), nonce());
    }

    LedgerRecord contribute(String node) throws Refusal, IOException {
        long r = round();
        return engine.contributed(node, r, TestParams.sha256("update of " + node + " in " + r), 100, 64, nonce());
    }

    /** Commits {@code score} on the current candidate, with a fresh salt remembered for the reveal. */
    LedgerRecord commit(String voter, int score) throws Refusal, IOException {
        long r = round();
        double metric = 0.5 + score * 0.125 + (counter % 7) / 1000.0;
        ByteString salt = ByteString.copyFrom(TestParams.sha256("salt " + counter++).toByteArray(), 0, 16);
        byte[] candidate = engine.read(s -> s.candidate().map(c -> c.getSha256().toByteArray()).orElse(new byte[32]));
        ByteString commitment = ByteString.copyFrom(VoteCommitment.of(TASK, r, voter, candidate, score, metric,
                salt.toByteArray()));
        LedgerRecord record = engine.commit(voter, r, commitment, nonce());
        votes.put(voter, new Vote(r, score, metric, salt, commitment));
        return record;
    }

    /** Reveals exactly what {@code voter} committed. */
    LedgerRecord reveal(String voter) throws Refusal, IOException {
        Vote v = votes.get(voter);
        if (v == null) {
            return engine.reveal(voter, round(), 1, 0.5, ByteString.copyFrom(new byte[16]), nonce());
        }
        return engine.reveal(voter, v.round(), v.score(), v.metric(), v.salt(), nonce());
    }

    /** Reveals the opposite score of what {@code voter} committed: a lie the commitment catches. */
    LedgerRecord revealLie(String voter) throws Refusal, IOException {
        Vote v = votes.get(voter);
        return engine.reveal(voter, v.round(), -v.score(), v.metric(), v.salt(), nonce());
    }

    /** Withdraws; returns the amount the ledger records as paid. */
    BigInteger withdraw(String node) throws Refusal, IOException {
        LedgerRecord record = engine.withdraw(node, nonce());
        Withdrawn w = decode(record).getWithdrawn();
        assertEquals(node, w.getNodeId());
        return new BigInteger(w.getAmount());
    }

    // ------------------------------------------------------------------------------------------ scripted steps

    /** Every node stakes its amount. */
    void stakeAll(List<String> nodes, List<BigInteger> amounts) throws Refusal, IOException {
        for (int i = 0; i < nodes.size(); i++) {
            stake(nodes.get(i), amounts.get(i));
        }
    }

    /** Every node joins the current round; returns the draw it triggers. */
    RoleDraw joinAll(List<String> nodes) throws Refusal, IOException {
        for (String node : nodes) {
            join(node);
        }
        return draw();
    }

    /** Every proposer of the current draw contributes. */
    void contributeAll() throws Refusal, IOException {
        for (String p : draw().proposers()) {
            contribute(p);
        }
    }

    // ------------------------------------------------------------------------------------------ the ledger

    /** Every record of the ledger file, read independently of the engine. */
    List<LedgerRecord> records() throws IOException {
        return records(ledger);
    }

    static List<LedgerRecord> records(Path file) throws IOException {
        List<LedgerRecord> records = new ArrayList<>();
        LedgerFile.verify(file, TASK, records::add);
        return records;
    }

    List<LedgerEvent> ledgerEvents() throws IOException {
        return records().stream().map(RoundHarness::decode).toList();
    }

    /** The events of round {@code r} of one kind. */
    List<LedgerEvent> events(long r, LedgerEvent.EventCase kind) throws IOException {
        return ledgerEvents().stream().filter(e -> e.getRound() == r && e.getEventCase() == kind).toList();
    }

    static LedgerEvent decode(LedgerRecord record) {
        try {
            return LedgerEvent.parseFrom(record.payload());
        } catch (InvalidProtocolBufferException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A fresh TaskState replayed from the ledger file, as TaskEngine.open replays it. */
    static TaskState replay(Path file) throws IOException {
        TaskState state = new TaskState(TASK);
        LedgerFile.verify(file, TASK, r -> state.apply(LedgerEvents.decode(r), r.timeUnixMs(), r.prevHash()));
        return state;
    }

    // ------------------------------------------------------------------------------------------ checks

    /** Runs a request that must be refused with {@code reason}, and checks that it recorded nothing. */
    Refusal refused(RefusalReason reason, Executable request) {
        long before = events();
        Refusal refusal = assertThrows(Refusal.class, request, "refused with " + reason);
        assertEquals(reason, refusal.reason(), refusal.getMessage());
        assertEquals(before, events(), "a refused request records nothing: " + refusal.getMessage());
        return refusal;
    }

    /**
     * The draw recomputed from fl-alliance.md alone: seed = SHA-256(head || task id || round as 8
     * bytes big-endian), keys SHA-256(seed || node id) sorted as unsigned bytes, ceil(rho * n)
     * (at least one) proposers, then committee_size (or all the rest) voters.
     */
    static RoleDraw independentDraw(byte[] previousHead, long round, List<String> joined, TaskRules rules) {
        byte[] task = TASK.getBytes(StandardCharsets.UTF_8);
        byte[] seed = sha256(ByteBuffer.allocate(previousHead.length + task.length + 8).put(previousHead).put(task)
                .putLong(round).array());
        List<String> sorted = new ArrayList<>(joined);
        sorted.sort((a, b) -> Arrays.compareUnsigned(key(seed, a), key(seed, b)));
        int n = sorted.size();
        int proposers = n == 0 ? 0 : Math.min(n, Math.max(1, new java.math.BigDecimal(rules.proposerFraction()
                .toString()).multiply(java.math.BigDecimal.valueOf(n)).setScale(0, java.math.RoundingMode.CEILING)
                .intValueExact()));
        int voters = rules.committeeSize() == 0 ? n - proposers : Math.min(rules.committeeSize(), n - proposers);
        return new RoleDraw(seed, sorted.subList(0, proposers), sorted.subList(proposers, proposers + voters));
    }

    private static byte[] key(byte[] seed, String node) {
        byte[] id = node.getBytes(StandardCharsets.UTF_8);
        return sha256(ByteBuffer.allocate(seed.length + id.length).put(seed).put(id).array());
    }

    private static byte[] sha256(byte[] data) {
        try {
            return java.security.MessageDigest.getInstance("SHA-256").digest(data);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static ExactDecimal fraction(String text) {
        return ExactDecimal.parse("fraction", text);
    }

    private static ScheduledExecutorService timers() {
        ScheduledThreadPoolExecutor timers = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "round-test-timers");
            t.setDaemon(true);
            return t;
        });
        timers.setRemoveOnCancelPolicy(true);
        return timers;
    }
}
