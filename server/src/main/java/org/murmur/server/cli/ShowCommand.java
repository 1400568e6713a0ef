package org.murmur.server.cli;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.google.protobuf.ByteString;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import org.murmur.kernels.api.InvalidInputException;
import org.murmur.proto.ledger.v1.Removed;
import org.murmur.proto.ledger.v1.Rewarded;
import org.murmur.proto.ledger.v1.SettlementReason;
import org.murmur.proto.ledger.v1.Slashed;
import org.murmur.proto.v1.Economics;
import org.murmur.proto.v1.Phase;
import org.murmur.proto.v1.RoundResult;
import org.murmur.server.economics.TaskRules;
import org.murmur.server.ledger.CorruptLedgerException;
import org.murmur.server.round.LedgerReplay;
import org.murmur.server.round.TaskState;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code murmur ledger show}: one task's ledger as people read it, after the same verification
 * {@code verify} runs: a table per round (result, tally V, every drawn node's role, contribution or
 * vote, rewards, slashes and removal), then every node's final balances. {@code --json} prints the
 * same as JSON lines, with full node ids and amounts in the smallest unit. A corrupt ledger prints
 * nothing but the one stderr line naming the event (exit 1).
 */
@Command(name = "show", mixinStandardHelpOptions = true,
        description = {"Print a task's rounds, votes, rewards, slashes and final balances.",
                "",
                "Tables with amounts in tokens and node ids cut to their first 8 characters, or JSON lines"
                        + " (--json) with full ids and amounts in the smallest unit. The ledger is verified first"
                        + " and never written to; a corrupt one exits 1."})
final class ShowCommand implements Callable<Integer> {
    private static final HexFormat HEX = HexFormat.of();
    private static final JsonFactory JSON = new JsonFactory();

    @Option(names = "--data-dir", required = true, paramLabel = "DIR", description = "The server's data directory.")
    Path dataDir;

    @Option(names = "--task", required = true, paramLabel = "ID", description = "The task to show.")
    String task;

    @Option(names = "--json", description = "JSON lines: one object per task, round and node.")
    boolean json;

    @Spec
    CommandSpec command;

    @Override
    public Integer call() throws IOException {
        Path file = LedgerCommand.requireTask(dataDir, task);
        TaskHistory history = new TaskHistory();
        LedgerReplay.Result result;
        try {
            result = LedgerReplay.replay(file, task, history);
        } catch (CorruptLedgerException e) {
            throw new InvalidInputException("corrupt ledger " + file + ": " + LedgerCommand.where(e));
        } catch (NoSuchFileException e) {
            throw new InvalidInputException("corrupt ledger " + file + ": the file is missing, so the task was"
                    + " never created");
        }
        PrintWriter out = command.commandLine().getOut();
        if (json) {
            printJson(out, history, result);
        } else {
            printText(out, history, result);
        }
        out.flush();
        return 0;
    }

    // ------------------------------------------------------------------------------------------
    // Text

    private void printText(PrintWriter out, TaskHistory history, LedgerReplay.Result result) {
        TaskState state = result.state();
        TaskRules rules = state.rules();
        out.println("task " + task + " (creator " + LedgerCommand.shortId(history.creatorId()) + "): "
                + history.roundsFinished() + " of " + rules.totalRounds() + " rounds finished, "
                + (state.finished() ? "task finished" : "round " + state.round() + " in phase " + phaseName(state.phase()))
                + ", " + result.events() + " events");
        out.println("rules: " + rules.ruleName() + ", " + economics(rules) + ", "
                + (rules.stakeWeightedVotes() ? "stake-weighted votes" : "one vote per voter") + ", min stake "
                + Amounts.tokens(rules.minStake()) + ", reward pool " + Amounts.tokens(rules.rewardPool())
                + "; amounts in tokens");
        if (result.tornBytes() > 0) {
            out.println("torn tail: " + result.tornBytes() + " bytes after event " + (result.events() - 1)
                    + ", would be repaired at next start");
        }
        for (TaskHistory.Round round : history.rounds()) {
            out.println();
            out.println(roundHeadline(round, rules));
            if (!round.drawn) {
                out.println("  joined: " + (round.joined.isEmpty() ? "none"
                        : String.join(", ", round.joined.stream().map(LedgerCommand::shortId).toList())));
            } else {
                TextTable table = new TextTable("NODE", "ROLE", "CONTRIBUTED/VOTE", "REWARD", "SLASH", "REMOVED");
                for (String node : settledNodes(round)) {
                    table.row(LedgerCommand.shortId(node), role(round, node), action(round, node),
                            rewardCell(round, node), slashCell(round, node), removedCell(round, node));
                }
                table.print(out, "  ");
            }
        }
        out.println();
        out.println("balances");
        TextTable balances = new TextTable("NODE", "STAKE", "UNCLAIMED REWARDS", "WITHDRAWN", "REMOVED");
        for (String node : history.nodes()) {
            balances.row(LedgerCommand.shortId(node), Amounts.tokens(state.stake(node)),
                    Amounts.tokens(state.reward(node)), Amounts.tokens(history.withdrawn(node)),
                    state.isRemoved(node) ? "yes" : "no");
        }
        balances.print(out, "  ");
        out.println("pool " + Amounts.tokens(state.pool()) + (state.finished()
                ? ", " + Amounts.tokens(history.returnedToCreator()) + " returned to the creator" : ""));
    }

    private static String roundHeadline(TaskHistory.Round round, TaskRules rules) {
        String head = "round " + round.number + ": ";
        if (!round.isOver()) {
            return head + "in progress, phase " + phaseName(round.phase);
        }
        var finished = round.finished;
        return switch (finished.getResult()) {
            case ROUND_RESULT_FAILED -> head + "failed: " + finished.getReason();
            case ROUND_RESULT_VOID -> head + "void, V = " + tally(finished.getTally(), rules) + " ("
                    + finished.getVotesRevealed() + " of " + round.voters.size() + " votes revealed, min_votes "
                    + rules.minVotes() + ")";
            default -> head + resultName(finished.getResult()) + ", V = " + tally(finished.getTally(), rules) + " ("
                    + finished.getVotesRevealed() + " of " + round.voters.size() + " votes revealed)"
                    + (round.candidate == null ? "" : ", candidate " + shortHash(round.candidate));
        };
    }

    private static String tally(String v, TaskRules rules) {
        BigInteger value = new BigInteger(v);
        if (rules.stakeWeightedVotes()) {
            return Amounts.signedTokens(value) + " tokens";
        }
        return (value.signum() > 0 ? "+" : "") + value + (value.abs().equals(BigInteger.ONE) ? " vote" : " votes");
    }

    /** Proposers, voters, the rest of the joined nodes, then anyone else settled in the round. */
    private static Set<String> settledNodes(TaskHistory.Round round) {
        Set<String> nodes = new LinkedHashSet<>(round.proposers);
        nodes.addAll(round.voters);
        nodes.addAll(round.joined);
        round.rewards.forEach(r -> nodes.add(r.getNodeId()));
        round.slashes.forEach(s -> nodes.add(s.getNodeId()));
        round.removals.forEach(r -> nodes.add(r.getNodeId()));
        return nodes;
    }

    private static String role(TaskHistory.Round round, String node) {
        if (round.proposers.contains(node)) {
            return "proposer";
        }
        return round.voters.contains(node) ? "voter" : "joined";
    }

    private static String action(TaskHistory.Round round, String node) {
        if (round.proposers.contains(node)) {
            return round.contributed.contains(node) ? "yes" : "no";
        }
        if (!round.voters.contains(node)) {
            return "-";
        }
        Integer score = round.scores.get(node);
        if (score != null) {
            return score > 0 ? "+1" : "-1";
        }
        RoundResult result = round.result();
        if (result == RoundResult.ROUND_RESULT_ACCEPTED || result == RoundResult.ROUND_RESULT_REJECTED
                || result == RoundResult.ROUND_RESULT_VOID) {
            return "no-show";
        }
        return round.committed.contains(node) ? "committed" : "-";
    }

    private static String rewardCell(TaskHistory.Round round, String node) {
        List<String> parts = new ArrayList<>();
        for (Rewarded r : round.rewards) {
            if (r.getNodeId().equals(node)) {
                parts.add("+" + Amounts.tokens(new BigInteger(r.getAmount())) + " (" + reasonName(r.getReason()) + ")");
            }
        }
        return String.join(", ", parts);
    }

    private static String slashCell(TaskHistory.Round round, String node) {
        List<String> parts = new ArrayList<>();
        for (Slashed s : round.slashes) {
            if (s.getNodeId().equals(node)) {
                parts.add("-" + Amounts.tokens(new BigInteger(s.getAmount())) + " (" + reasonName(s.getReason()) + ")");
            }
        }
        return String.join(", ", parts);
    }

    private static String removedCell(TaskHistory.Round round, String node) {
        for (Removed r : round.removals) {
            if (r.getNodeId().equals(node)) {
                return "yes, " + Amounts.tokens(new BigInteger(r.getStakeLeft())) + " left";
            }
        }
        return "";
    }

    private static String economics(TaskRules rules) {
        if (rules.economics() == Economics.ECONOMICS_FIXED_PENALTY) {
            return "fixed_penalty of " + Amounts.tokens(rules.penalty()) + " tokens";
        }
        return "pro_rata slashing " + rules.slashFraction() + " of stake";
    }

    // ------------------------------------------------------------------------------------------
    // JSON lines

    private void printJson(PrintWriter out, TaskHistory history, LedgerReplay.Result result) throws IOException {
        TaskState state = result.state();
        TaskRules rules = state.rules();
        out.println(object(g -> {
            g.writeStringField("type", "task");
            g.writeStringField("task", task);
            g.writeStringField("creator", history.creatorId());
            g.writeNumberField("events", result.events());
            g.writeNumberField("torn_bytes", result.tornBytes());
            g.writeNumberField("total_rounds", rules.totalRounds());
            g.writeNumberField("rounds_finished", history.roundsFinished());
            g.writeBooleanField("finished", state.finished());
            g.writeNumberField("round", state.round());
            g.writeStringField("phase", phaseName(state.phase()));
            g.writeStringField("rule", rules.ruleName());
            g.writeStringField("economics", rules.economics() == Economics.ECONOMICS_FIXED_PENALTY
                    ? "fixed_penalty" : "pro_rata");
            g.writeStringField("slash_fraction", rules.slashFraction().toString());
            g.writeStringField("penalty", rules.penalty().toString());
            g.writeBooleanField("stake_weighted_votes", rules.stakeWeightedVotes());
            g.writeStringField("min_stake", rules.minStake().toString());
            g.writeStringField("reward_pool", rules.rewardPool().toString());
        }));
        for (TaskHistory.Round round : history.rounds()) {
            out.println(object(g -> writeRound(g, round)));
        }
        for (String node : history.nodes()) {
            out.println(object(g -> {
                g.writeStringField("type", "balance");
                g.writeStringField("node", node);
                g.writeStringField("stake", state.stake(node).toString());
                g.writeStringField("unclaimed_rewards", state.reward(node).toString());
                g.writeStringField("deposited", history.deposited(node).toString());
                g.writeStringField("withdrawn", history.withdrawn(node).toString());
                g.writeBooleanField("removed", state.isRemoved(node));
            }));
        }
        TaskHistory.Book book = history.book(state);
        out.println(object(g -> {
            g.writeStringField("type", "totals");
            g.writeStringField("stakes", book.stakes().toString());
            g.writeStringField("rewards", book.rewards().toString());
            g.writeStringField("pool", book.pool().toString());
            g.writeStringField("withdrawn", book.withdrawn().toString());
            g.writeStringField("returned_to_creator", book.returned().toString());
            g.writeStringField("creator_pool", book.creatorPool().toString());
            g.writeStringField("deposits", book.deposits().toString());
        }));
    }

    private static void writeRound(JsonGenerator g, TaskHistory.Round round) throws IOException {
        g.writeStringField("type", "round");
        g.writeNumberField("round", round.number);
        g.writeStringField("result", round.isOver() ? resultName(round.result()) : "in_progress");
        g.writeStringField("phase", phaseName(round.phase));
        if (round.isOver()) {
            g.writeStringField("reason", round.finished.getReason());
            g.writeStringField("tally", round.finished.getTally());
            g.writeNumberField("votes_revealed", round.finished.getVotesRevealed());
            g.writeStringField("global_model", HEX.formatHex(round.finished.getGlobalModelSha256().toByteArray()));
        }
        if (round.candidate != null) {
            g.writeStringField("candidate", HEX.formatHex(round.candidate.toByteArray()));
        }
        g.writeArrayFieldStart("joined");
        for (String node : round.joined) {
            g.writeString(node);
        }
        g.writeEndArray();
        g.writeArrayFieldStart("proposers");
        for (String node : round.proposers) {
            g.writeStartObject();
            g.writeStringField("node", node);
            g.writeStringField("stake", String.valueOf(round.snapshot.get(node)));
            g.writeBooleanField("contributed", round.contributed.contains(node));
            g.writeEndObject();
        }
        g.writeEndArray();
        g.writeArrayFieldStart("voters");
        for (String node : round.voters) {
            g.writeStartObject();
            g.writeStringField("node", node);
            g.writeStringField("stake", String.valueOf(round.snapshot.get(node)));
            g.writeBooleanField("committed", round.committed.contains(node));
            Integer score = round.scores.get(node);
            if (score == null) {
                g.writeNullField("score");
            } else {
                g.writeNumberField("score", score);
            }
            g.writeEndObject();
        }
        g.writeEndArray();
        g.writeArrayFieldStart("rewards");
        for (Rewarded r : round.rewards) {
            g.writeStartObject();
            g.writeStringField("node", r.getNodeId());
            g.writeStringField("amount", r.getAmount());
            g.writeStringField("reason", r.getReason().name().toLowerCase(Locale.ROOT));
            g.writeEndObject();
        }
        g.writeEndArray();
        g.writeArrayFieldStart("slashes");
        for (Slashed s : round.slashes) {
            g.writeStartObject();
            g.writeStringField("node", s.getNodeId());
            g.writeStringField("amount", s.getAmount());
            g.writeStringField("to_pool", s.getToPool());
            g.writeStringField("reason", s.getReason().name().toLowerCase(Locale.ROOT));
            g.writeEndObject();
        }
        g.writeEndArray();
        g.writeArrayFieldStart("removed");
        for (Removed r : round.removals) {
            g.writeStartObject();
            g.writeStringField("node", r.getNodeId());
            g.writeStringField("stake_left", r.getStakeLeft());
            g.writeEndObject();
        }
        g.writeEndArray();
    }

    @FunctionalInterface
    private interface Fields {
        void write(JsonGenerator g) throws IOException;
    }

    /** One JSON object on one line. */
    private static String object(Fields fields) throws IOException {
        StringWriter text = new StringWriter();
        try (JsonGenerator g = JSON.createGenerator(text)) {
            g.writeStartObject();
            fields.write(g);
            g.writeEndObject();
        }
        return text.toString();
    }

    // ------------------------------------------------------------------------------------------
    // Names

    /** "commit" for PHASE_COMMIT. */
    static String phaseName(Phase phase) {
        String name = phase.name();
        return (name.startsWith("PHASE_") ? name.substring("PHASE_".length()) : name).toLowerCase(Locale.ROOT);
    }

    /** "accepted" for ROUND_RESULT_ACCEPTED. */
    private static String resultName(RoundResult result) {
        String name = result.name();
        return (name.startsWith("ROUND_RESULT_") ? name.substring("ROUND_RESULT_".length()) : name)
                .toLowerCase(Locale.ROOT);
    }

    /** "accepted proposer" for ACCEPTED_PROPOSER, "no-show" for NO_SHOW. */
    private static String reasonName(SettlementReason reason) {
        return reason == SettlementReason.NO_SHOW ? "no-show" : reason.name().toLowerCase(Locale.ROOT).replace('_', ' ');
    }

    private static String shortHash(ByteString sha256) {
        return LedgerCommand.shortId(HEX.formatHex(sha256.toByteArray()));
    }
}
