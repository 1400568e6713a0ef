package org.murmur.server.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.google.protobuf.ByteString;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.OptionalDouble;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.murmur.proto.VoteCommitment;
import org.murmur.proto.identity.NodeId;
import org.murmur.proto.ledger.v1.LedgerEvent;
import org.murmur.proto.ledger.v1.TaskCreated;
import org.murmur.proto.v1.DType;
import org.murmur.proto.v1.TaskParams;
import org.murmur.proto.v1.TensorSpec;
import org.murmur.server.economics.RoleDraw;
import org.murmur.server.economics.TaskRules;
import org.murmur.server.economics.Tokens;
import org.murmur.server.ledger.LedgerFile;
import org.murmur.server.ledger.LedgerRecord;
import org.murmur.server.round.CandidateMaker;
import org.murmur.server.round.LedgerEvents;
import org.murmur.server.round.TaskEngine;
import org.murmur.server.round.TaskRegistry;

/**
 * {@code murmur ledger verify} and {@code show} against a real ledger, written by a {@link TaskEngine}
 * driving a three-round task: round 0 accepted with a proposer and a voter absent and a node removed,
 * round 1 rejected, round 2 failed for want of participants, then withdrawals. The same ledger is
 * then damaged the ways the issue names: a flipped byte, a re-chained forgery, a torn tail.
 */
class LedgerCommandTest {
    private static final String TASK = "demo";
    private static final long T0 = 1_760_000_000_000L;
    private static final int ROUND_SECONDS = 60;
    private static final ByteString CANDIDATE = bytes(32, 0x5a);
    /** Header "MURMUR-LEDGER\n", u32 version, str(ledger id); each record adds 96 bytes to its type and payload. */
    private static final int HEADER_BYTES = 14 + 4 + 4 + TASK.length();
    private static final int RECORD_OVERHEAD = 96;

    @TempDir
    static Path shared;
    static Path data;
    static Path ledger;
    static List<String> nodes;
    /** The node staked at exactly min_stake: slashed in round 0, removed, then it withdraws. */
    static String weak;
    static String acceptedProposer;
    static String disagreeingVoter;

    @TempDir
    Path dir;

    // ------------------------------------------------------------------------------------------
    // The ledger

    @BeforeAll
    static void writeLedger() throws Exception {
        data = shared.resolve("data");
        ledger = TaskRegistry.ledgerPath(data, TASK);
        Files.createDirectories(ledger.getParent());
        new Scenario().run();
    }

    /** Drives one engine through the three rounds with a manual clock and deterministic nonces. */
    private static final class Scenario {
        final AtomicLong clock = new AtomicLong(T0);
        int nonces;
        TaskEngine engine;

        void run() throws Exception {
            nodes = new ArrayList<>();
            for (int i = 1; i <= 5; i++) {
                nodes.add(NodeId.ofRawKey(bytes(32, i).toByteArray()).hex());
            }
            weak = nodes.get(4);
            TaskParams params = TaskParams.newBuilder().setTotalRounds(3).setRoundSeconds(ROUND_SECONDS)
                    .setMinParticipants(2).setMaxParticipants(5).setMinStake(Tokens.of(10).toString())
                    .setRewardPool(Tokens.of(100).toString()).setProposerFraction("0.4")
                    .addModelSchema(TensorSpec.newBuilder().setName("w").setDtype(DType.DTYPE_F32).addShape(4))
                    .setInitialModelSha256(bytes(32, 0x11)).build();
            TaskCreated created = TaskCreated.newBuilder().setParams(TaskRules.fromProto(params).toProto())
                    .setCreatorId("c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00").setCreatorPublicKey(bytes(32, 0x77))
                    .setNonce(nonce()).build();
            ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor();
            Executor direct = Runnable::run;
            CandidateMaker maker = (taskId, round, rules, contributions, previous) ->
                    new CandidateMaker.Candidate(CANDIDATE, List.of(), OptionalDouble.empty());
            try {
                engine = TaskEngine.create(ledger, TASK, created, clock::get, timers, direct, maker);
                for (String node : nodes) {
                    step();
                    engine.stake(node, bytes(32, nodes.indexOf(node) + 1),
                            Tokens.of(node.equals(weak) ? 10 : 20), nonce());
                }
                roundZero();
                roundOne();
                roundTwo();
                step();
                engine.withdraw(weak, nonce());
                step();
                engine.withdraw(acceptedProposer, nonce());
            } finally {
                if (engine != null) {
                    engine.close();
                }
                timers.shutdownNow();
            }
        }

        /** All five join; one proposer sends no update, one voter votes against, one never reveals: accepted at V = 0. */
        void roundZero() throws Exception {
            joinAll(0, nodes);
            RoleDraw draw = engine.read(s -> s.draw().orElseThrow());
            List<String> proposers = new ArrayList<>(draw.proposers());
            List<String> voters = new ArrayList<>(draw.voters());
            assertEquals(2, proposers.size());
            assertEquals(3, voters.size());
            // The weak node is always slashed: a proposer that sends nothing, or a voter that never reveals.
            proposers.sort((a, b) -> Boolean.compare(a.equals(weak), b.equals(weak)));
            voters.sort((a, b) -> Boolean.compare(a.equals(weak), b.equals(weak)));
            acceptedProposer = proposers.get(0);
            disagreeingVoter = voters.get(1);
            contribute(0, acceptedProposer);
            pastDeadline();
            int[] scores = {1, -1, 1};
            for (int i = 0; i < voters.size(); i++) {
                commit(0, voters.get(i), scores[i]);
            }
            reveal(0, voters.get(0), 1);
            reveal(0, voters.get(1), -1);
            pastDeadline();
        }

        /** The four nodes left join; both proposers contribute, both voters vote against: rejected. */
        void roundOne() throws Exception {
            joinAll(1, nodes.subList(0, 4));
            RoleDraw draw = engine.read(s -> s.draw().orElseThrow());
            for (String proposer : draw.proposers()) {
                contribute(1, proposer);
            }
            for (String voter : draw.voters()) {
                commit(1, voter, -1);
            }
            for (String voter : draw.voters()) {
                reveal(1, voter, -1);
            }
        }

        /** Only one node joins before the deadline: the round fails and the task finishes. */
        void roundTwo() throws Exception {
            joinAll(2, nodes.subList(0, 1));
            pastDeadline();
            assertTrue((boolean) engine.read(s -> s.finished()), "the task finished after round 2");
        }

        void joinAll(long round, List<String> joiners) throws Exception {
            for (String node : joiners) {
                step();
                engine.join(node, round, nonce());
            }
        }

        void contribute(long round, String node) throws Exception {
            step();
            engine.contributed(node, round, bytes(32, 0x30 + (int) round), 100, 64, nonce());
        }

        void commit(long round, String voter, int score) throws Exception {
            step();
            byte[] commitment = VoteCommitment.of(TASK, round, voter, CANDIDATE.toByteArray(), score, 0.5 + score / 4.0,
                    salt(voter, round).toByteArray());
            engine.commit(voter, round, ByteString.copyFrom(commitment), nonce());
        }

        void reveal(long round, String voter, int score) throws Exception {
            step();
            engine.reveal(voter, round, score, 0.5 + score / 4.0, salt(voter, round), nonce());
        }

        void step() {
            clock.addAndGet(1_000);
        }

        void pastDeadline() throws IOException {
            clock.addAndGet(ROUND_SECONDS * 1_000L + 1);
            engine.tick();
        }

        ByteString nonce() {
            return ByteString.copyFrom(String.format("nonce-%010d", nonces++), StandardCharsets.US_ASCII);
        }

        static ByteString salt(String voter, long round) {
            return ByteString.copyFromUtf8("salt/" + round + "/" + voter);
        }
    }

    // ------------------------------------------------------------------------------------------
    // verify

    @Test
    void verifyPassesASoundLedgerAndNamesTheTask() {
        Run run = run("ledger", "verify", "--data-dir", data.toString());
        assertEquals(0, run.code(), run.toString());
        assertEquals("", run.err());
        assertTrue(run.out().contains("task demo: " + events(ledger) + " events, 3 of 3 rounds finished, task finished: OK"),
                run.out());
        assertTrue(run.out().contains("  conservation (tokens): stakes "), run.out());
        assertTrue(run.out().contains(" = creator pool 100 + deposits 90\n"), run.out());
        assertTrue(run.out().endsWith("verified 1 task: 1 OK, 0 corrupt\n"), run.out());

        Run one = run("ledger", "verify", "--data-dir", data.toString(), "--task", TASK, "--raw");
        assertEquals(0, one.code(), one.toString());
        assertTrue(one.out().contains("creator pool 100 (100000000000000000000) + deposits 90 (90000000000000000000)"),
                one.out());
    }

    @Test
    void verifyNeverWritesAndTheNumbersBalance() throws IOException {
        byte[] before = Files.readAllBytes(ledger);
        Run run = run("ledger", "verify", "--data-dir", data.toString());
        assertEquals(0, run.code(), run.toString());
        assertArrayEquals(before, Files.readAllBytes(ledger));
        var m = Pattern.compile("stakes (\\S+) \\+ rewards (\\S+) \\+ pool (\\S+) \\+ withdrawn (\\S+)"
                + " = creator pool (\\S+) \\+ deposits (\\S+)\n").matcher(run.out());
        assertTrue(m.find(), run.out());
        BigInteger held = tokens(m.group(1)).add(tokens(m.group(2))).add(tokens(m.group(3))).add(tokens(m.group(4)));
        assertEquals(tokens(m.group(5)).add(tokens(m.group(6))), held);
        assertTrue(run.out().contains("\n  withdrawn includes the pool's remainder returned to the creator: "), run.out());
    }

    @Test
    void aFlippedByteInAMiddleRecordIsCorruptionNamingItsSeq() throws IOException {
        Path copy = copyData();
        Path file = TaskRegistry.ledgerPath(copy, TASK);
        List<long[]> records = layout(file);
        int seq = records.size() / 2;
        long offset = records.get(seq)[0] + 8 + 8 + 3;
        byte[] bytes = Files.readAllBytes(file);
        bytes[(int) offset] ^= 0x01;
        Files.write(file, bytes);

        Run run = run("ledger", "verify", "--data-dir", copy.toString());
        assertEquals(1, run.code(), run.toString());
        assertTrue(run.out().contains("task demo: " + seq + " events, ") && run.out().contains(
                ": CORRUPT: record seq " + seq + " at byte offset " + records.get(seq)[0] + ": the hash does not"
                        + " match the record's body"), run.out());
        assertTrue(run.out().endsWith("verified 1 task: 0 OK, 1 corrupt\n"), run.out());
        assertOneLine(run.err(), "murmur: corrupt ledger " + file + ": record seq " + seq + " at byte offset");
        assertArrayEquals(bytes, Files.readAllBytes(file), "verify left the corrupt file as it was");
    }

    @Test
    void aRewrittenRewardWithAValidChainBreaksTheSettlementRule() throws IOException {
        Path copy = copyData();
        Path file = TaskRegistry.ledgerPath(copy, TASK);
        List<LedgerRecord> records = new ArrayList<>();
        LedgerFile.verify(file, TASK, records::add);
        int forged = -1;
        Path rewritten = file.resolveSibling("forged.mlg");
        try (LedgerFile out = LedgerFile.open(rewritten, TASK, r -> { })) {
            for (LedgerRecord r : records) {
                byte[] payload = r.payload();
                LedgerEvent event = LedgerEvents.decode(r);
                if (forged < 0 && event.hasRewarded()) {
                    forged = (int) r.seq();
                    BigInteger more = new BigInteger(event.getRewarded().getAmount()).add(Tokens.ONE);
                    payload = event.toBuilder().setRewarded(event.getRewarded().toBuilder()
                            .setAmount(more.toString())).build().toByteArray();
                }
                out.append(r.type(), r.timeUnixMs(), payload);
            }
        }
        Files.move(rewritten, file, StandardCopyOption.REPLACE_EXISTING);
        assertTrue(forged > 0);
        LedgerFile.verify(file, TASK, r -> { });

        Run run = run("ledger", "verify", "--data-dir", copy.toString(), "--task", TASK);
        assertEquals(1, run.code(), run.toString());
        assertTrue(run.out().startsWith("task demo: " + forged + " events, 1 of 3 rounds finished: CORRUPT: event "
                + forged + " (rewarded) breaks the rules: the rules owe REWARDED"), run.out());
        assertOneLine(run.err(), "murmur: corrupt ledger " + file + ": event " + forged + " (rewarded) breaks the rules:");

        Run show = run("ledger", "show", "--data-dir", copy.toString(), "--task", TASK);
        assertEquals(1, show.code(), show.toString());
        assertEquals("", show.out());
        assertOneLine(show.err(), "murmur: corrupt ledger " + file + ": event " + forged + " (rewarded)");
    }

    @Test
    void aTornTailIsReportedAndLeftForTheServerToRepair() throws IOException {
        Path copy = copyData();
        Path file = TaskRegistry.ledgerPath(copy, TASK);
        List<long[]> records = layout(file);
        long[] last = records.get(records.size() - 1);
        byte[] whole = Files.readAllBytes(file);
        byte[] torn = Arrays.copyOf(whole, whole.length - 10);
        Files.write(file, torn);

        Run run = run("ledger", "verify", "--data-dir", copy.toString());
        assertEquals(0, run.code(), run.toString());
        long tornBytes = last[1] - 10;
        assertTrue(run.out().contains("task demo: " + (records.size() - 1) + " events, 3 of 3 rounds finished, task"
                + " finished: OK\n  torn tail: " + tornBytes + " bytes after event " + (records.size() - 2)
                + ", would be repaired at next start\n"), run.out());
        assertArrayEquals(torn, Files.readAllBytes(file), "verify did not repair the file");

        Run show = run("ledger", "show", "--data-dir", copy.toString(), "--task", TASK);
        assertEquals(0, show.code(), show.toString());
        assertTrue(show.out().contains("torn tail: " + tornBytes + " bytes"), show.out());
        assertArrayEquals(torn, Files.readAllBytes(file), "show did not repair the file");

        try (LedgerFile opened = LedgerFile.open(file, TASK, r -> { })) {
            assertEquals(tornBytes, opened.tornBytesRepaired(), "the server cuts what verify reported");
        }
    }

    @Test
    void aMissingDataDirIsAnEnvironmentFailure() throws IOException {
        Run run = run("ledger", "verify", "--data-dir", dir.resolve("absent").toString());
        assertEquals(3, run.code(), run.toString());
        assertEquals("", run.out());
        assertOneLine(run.err(), "murmur: " + dir.resolve("absent") + ": data directory does not exist");

        Run show = run("ledger", "show", "--data-dir", dir.resolve("absent").toString(), "--task", TASK);
        assertEquals(3, show.code(), show.toString());
        assertOneLine(show.err(), "murmur: ");

        Path file = Files.writeString(dir.resolve("file"), "not a directory");
        Run notDir = run("ledger", "verify", "--data-dir", file.toString());
        assertEquals(3, notDir.code(), notDir.toString());
        assertOneLine(notDir.err(), "murmur: " + file);
    }

    @Test
    void anUnknownTaskIsInvalidInputAndAnEmptyDataDirHasNoTasks() throws IOException {
        Run unknown = run("ledger", "verify", "--data-dir", data.toString(), "--task", "other");
        assertEquals(1, unknown.code(), unknown.toString());
        assertOneLine(unknown.err(), "murmur: --task: data directory " + data + " has no task 'other'");

        Run traversal = run("ledger", "show", "--data-dir", data.toString(), "--task", "../demo");
        assertEquals(1, traversal.code(), traversal.toString());

        Path empty = Files.createDirectory(dir.resolve("empty"));
        Run none = run("ledger", "verify", "--data-dir", empty.toString());
        assertEquals(0, none.code(), none.toString());
        assertTrue(none.out().startsWith("verified 0 tasks"), none.out());

        Run bare = run("ledger");
        assertEquals(2, bare.code(), bare.toString());
        assertOneLine(bare.err(), "murmur: ");
    }

    @Test
    void aStrayEntryAndAMissingLedgerAreReported() throws IOException {
        Path copy = copyData();
        Files.writeString(copy.resolve("tasks").resolve("notes.txt"), "stray");
        Files.createDirectory(copy.resolve("tasks").resolve("empty"));
        Run run = run("ledger", "verify", "--data-dir", copy.toString());
        assertEquals(1, run.code(), run.toString());
        assertTrue(run.out().contains("task demo: "), run.out());
        assertTrue(run.out().contains("task empty: CORRUPT: no ledger file\n"), run.out());
        assertTrue(run.out().contains("task notes.txt: CORRUPT: not a task directory\n"), run.out());
        assertTrue(run.out().endsWith("verified 3 tasks: 1 OK, 2 corrupt\n"), run.out());
        assertEquals(2, run.err().lines().count(), run.err());
    }

    // ------------------------------------------------------------------------------------------
    // show

    @Test
    void showPrintsRoundsVotesSettlementsAndBalances() {
        Run run = run("ledger", "show", "--data-dir", data.toString(), "--task", TASK);
        assertEquals(0, run.code(), run.toString());
        assertEquals("", run.err());
        String out = run.out();
        assertTrue(out.startsWith("task demo (creator c0ffee00): 3 of 3 rounds finished, task finished, "), out);
        assertTrue(out.contains("\nrules: fedavg, pro_rata slashing 0.1 of stake, stake-weighted votes, min stake 10,"
                + " reward pool 100; amounts in tokens\n"), out);
        assertTrue(out.contains("\nround 0: accepted, V = 0 tokens (2 of 3 votes revealed), candidate 5a5a5a5a\n"), out);
        assertTrue(out.contains("\nround 1: rejected, V = -"), out);
        assertTrue(out.contains("\nround 2: failed: 1 node(s) joined, fewer than min_participants (2)\n  joined: "
                + shortId(nodes.get(0)) + "\n"), out);
        assertTrue(out.contains("  NODE      ROLE      CONTRIBUTED/VOTE  REWARD"), out);

        String round0 = section(out, "round 0:");
        // R = floor(100 / 3 tokens), shared by the two rewarded nodes of equal snapshotted stake.
        assertRow(round0, acceptedProposer, "proposer", "yes", "\\+16\\.666666666666666666 \\(accepted proposer\\)");
        assertRow(round0, disagreeingVoter, "voter", "-1", "-2 \\(disagreeing voter\\)");
        assertRow(round0, weak, "(proposer|voter)", "(no|no-show)", "-1 \\(no-show\\)\\s+yes, 9 left");
        assertTrue(round0.contains("(agreeing voter), +"), round0);
        assertTrue(round0.contains("(slash share)"), round0);
        String round1 = section(out, "round 1:");
        assertTrue(round1.contains("(rejected proposer)"), round1);
        assertTrue(Pattern.compile("voter\\s+-1\\s+\\+\\S+ \\(agreeing voter\\)").matcher(round1).find(), round1);

        String balances = section(out, "balances");
        assertTrue(Pattern.compile("\n  NODE {6}STAKE\\s+UNCLAIMED REWARDS\\s+WITHDRAWN\\s+REMOVED\n").matcher(balances).find(),
                balances);
        assertTrue(Pattern.compile(shortId(weak) + "\\s+0\\s+0\\s+9\\s+yes\n").matcher(balances).find(), balances);
        assertTrue(Pattern.compile(shortId(acceptedProposer) + "\\s+0\\s+0\\s+\\d+\\.\\d+\\s+no\n").matcher(balances)
                .find(), balances);
        assertTrue(out.contains("\npool 0, "), out);
        assertTrue(out.endsWith(" returned to the creator\n"), out);
    }

    @Test
    void showJsonPrintsOneObjectPerTaskRoundNodeAndTotals() throws IOException {
        Run run = run("ledger", "show", "--data-dir", data.toString(), "--task", TASK, "--json");
        assertEquals(0, run.code(), run.toString());
        List<String> lines = run.out().lines().toList();
        assertEquals(1 + 3 + nodes.size() + 1, lines.size(), run.out());
        JsonFactory json = new JsonFactory();
        for (String line : lines) {
            try (JsonParser p = json.createParser(line)) {
                JsonToken last = null;
                for (JsonToken t = p.nextToken(); t != null; t = p.nextToken()) {
                    last = t;
                }
                assertEquals(JsonToken.END_OBJECT, last, line);
            }
        }
        assertTrue(lines.get(0).startsWith("{\"type\":\"task\",\"task\":\"demo\""), lines.get(0));
        assertTrue(lines.get(0).contains("\"rounds_finished\":3,\"finished\":true"), lines.get(0));
        assertTrue(lines.get(1).contains("\"round\":0,\"result\":\"accepted\""), lines.get(1));
        assertTrue(lines.get(1).contains("{\"node\":\"" + acceptedProposer + "\",\"amount\":\"16666666666666666666\","
                + "\"reason\":\"accepted_proposer\"}"), lines.get(1));
        assertTrue(lines.get(1).contains("\"removed\":[{\"node\":\"" + weak + "\",\"stake_left\":\"9000000000000000000\"}]"),
                lines.get(1));
        assertTrue(lines.get(2).contains("\"result\":\"rejected\""), lines.get(2));
        assertTrue(lines.get(3).contains("\"result\":\"failed\",\"phase\":\"finished\",\"reason\":\"1 node(s) joined"),
                lines.get(3));
        assertTrue(run.out().contains("{\"type\":\"balance\",\"node\":\"" + weak + "\",\"stake\":\"0\","
                + "\"unclaimed_rewards\":\"0\",\"deposited\":\"10000000000000000000\",\"withdrawn\":\"9000000000000000000\","
                + "\"removed\":true}"), run.out());
        assertTrue(lines.get(lines.size() - 1).startsWith("{\"type\":\"totals\""), run.out());
    }

    // ------------------------------------------------------------------------------------------
    // Helpers

    record Run(int code, String out, String err) {
    }

    private static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Run(code, out.toString(), err.toString());
    }

    private static void assertOneLine(String err, String prefix) {
        assertEquals(1, err.lines().count(), err);
        assertTrue(err.startsWith(prefix) && err.endsWith("\n"), err);
    }

    /** A table row of {@code node}: role, contribution or vote, then cells matching {@code rest}. */
    private static void assertRow(String table, String node, String role, String action, String rest) {
        Pattern row = Pattern.compile("\n  " + shortId(node) + "\\s+" + role + "\\s+" + action + "\\s+(.*\\s+)?" + rest);
        assertTrue(row.matcher(table).find(), "no row " + row + " in\n" + table);
    }

    /** From the line starting with {@code start} to the next blank line. */
    private static String section(String out, String start) {
        int from = out.indexOf("\n" + start);
        assertTrue(from >= 0, start + " in\n" + out);
        int to = out.indexOf("\n\n", from + 1);
        return out.substring(from, to < 0 ? out.length() : to + 1);
    }

    private static String shortId(String node) {
        return node.substring(0, 8);
    }

    private static BigInteger tokens(String text) {
        return new java.math.BigDecimal(text).movePointRight(18).toBigIntegerExact();
    }

    private Path copyData() throws IOException {
        return copyTree(data, dir.resolve("copy"));
    }

    private static Path copyTree(Path data, Path copy) throws IOException {
        try (Stream<Path> walk = Files.walk(data)) {
            for (Path from : walk.toList()) {
                Path to = copy.resolve(data.relativize(from).toString());
                if (Files.isDirectory(from)) {
                    Files.createDirectories(to);
                } else {
                    Files.copy(from, to);
                }
            }
        }
        return copy;
    }

    private static long events(Path file) {
        try {
            return LedgerFile.verify(file, TASK, r -> { }).records();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    /** Each record's byte offset and length, in seq order, from the format documented on LedgerFile. */
    private static List<long[]> layout(Path file) throws IOException {
        List<long[]> records = new ArrayList<>();
        long[] offset = {HEADER_BYTES};
        LedgerFile.verify(file, TASK, r -> {
            long length = RECORD_OVERHEAD + r.type().length() + r.payload().length;
            records.add(new long[] {offset[0], length});
            offset[0] += length;
        });
        assertEquals(Files.size(file), offset[0]);
        return records;
    }

    private static ByteString bytes(int n, int value) {
        byte[] b = new byte[n];
        Arrays.fill(b, (byte) value);
        return ByteString.copyFrom(b);
    }
}
