package org.murmur.bench.demo;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import org.murmur.bench.Machine;
import org.murmur.proto.v1.RoundResult;

/**
 * The report of {@link PoisoningExperiment}: the machine and the settings, then the final test
 * accuracy of every cell and, beside it, what the vote did (rounds rejected, nodes removed), as
 * Markdown. Filled by one thread.
 */
final class PoisoningTable {
    private final PoisoningExperiment.Grid grid;
    private final List<PoisoningExperiment.Row> rows;
    private final Map<String, DemoResult> cells = new HashMap<>();
    private final String loadAtStart;
    private int runs;
    private double seconds;

    PoisoningTable(PoisoningExperiment.Grid grid, List<PoisoningExperiment.Row> rows) throws IOException {
        this.grid = grid;
        this.rows = rows;
        this.loadAtStart = loadAverage();
    }

    void put(PoisoningExperiment.Row row, String eta, DemoResult result) {
        cells.put(key(row, eta), result);
    }

    void finish(int runs, double seconds) {
        this.runs = runs;
        this.seconds = seconds;
    }

    String markdown(boolean quick) throws IOException {
        DemoResult any = cells.values().iterator().next();
        DemoSettings s = any.start().settings();
        StringBuilder md = new StringBuilder();
        md.append("# Poisoning on Fashion-MNIST: plain FedAvg against FL Alliance's vote")
                .append(quick ? " (quick run)" : "").append("\n\n");
        md.append("`bench/run-poisoning.sh").append(quick ? " --quick" : "")
                .append("`: every cell is a whole `murmur demo` run through the real server over gRPC on loopback,"
                + " its global model scored on the 10,000 test images after the last round. A fraction η of the"
                + " nodes attack whenever they are drawn as proposers (and, in the \"also lie\" row, invert their"
                + " votes whenever they vote).\n\n");
        md.append(Machine.describe());
        md.append("- Load average when the run started: ").append(loadAtStart)
                .append(" (the machine is shared; wall times are only indicative)\n");
        md.append(String.format(Locale.ROOT, "- %d nodes, %d rounds, %d proposers a round (proposer fraction %s),"
                        + " every other node votes; IID split of the 60,000 training images, each node's %d%% to train"
                        + " and the rest to vote on%n", grid.nodes(), grid.rounds(), s.proposersPerRound(),
                s.proposerFraction(), Math.round(100 * Fleet.TRAIN_FRACTION)));
        md.append(String.format(Locale.ROOT, "- Model: MLP 784-%d-10, each proposer trains %d epochs of SGD (learning"
                        + " rate %s, batches of %d) from the global model; fedavg unweighted, as FLock%n",
                DemoRun.HIDDEN, DemoRun.SGD.epochs(), DemoRun.SGD.learningRate(), DemoRun.SGD.batchSize()));
        md.append(String.format(Locale.ROOT, "- Economics (the paper's): stake %d tokens, a fixed penalty of %s per"
                        + " offence, removed below %s; votes stake-weighted; round 0's baseline accuracy %.2f%n",
                s.stake(), ConsoleView.tokens(DemoTask.PENALTY), ConsoleView.tokens(DemoTask.MIN_STAKE),
                DemoTask.BASELINE_ACCURACY));
        md.append(String.format(Locale.ROOT, "- Attacks: label flip trains on labels 9 - y; sign flip sends the honest"
                + " update reversed and scaled by %.0f. One run per cell, seed %d: the data split and the attackers are"
                + " the same in every cell, the role draws follow each ledger and differ%n", Attack.SIGN_FLIP_FACTOR,
                s.seed()));
        md.append(String.format(Locale.ROOT, "- %d runs in %.0f s%n%n", runs, seconds));

        md.append("## Final test accuracy of the global model (%)\n\n");
        md.append(table(result -> String.format(Locale.ROOT, "%.1f", 100 * result.finalAccuracy())));
        md.append("\n## What the vote did: rounds rejected; tokens slashed per malicious / per honest node\n\n");
        md.append(table(result -> String.format(Locale.ROOT, "%d rej; %s / %s",
                result.count(RoundResult.ROUND_RESULT_REJECTED),
                ConsoleView.perNode(result.slashedMalicious(), result.malicious()),
                ConsoleView.perNode(result.slashedHonest(), result.honest()))));
        return md.toString();
    }

    private String table(Function<DemoResult, String> cell) {
        StringBuilder md = new StringBuilder("| defence | attack | η = 0");
        grid.fractions().forEach(eta -> md.append(" | ").append(eta));
        md.append(" |\n|---|---|---:");
        grid.fractions().forEach(eta -> md.append("|---:"));
        md.append("|\n");
        for (PoisoningExperiment.Row row : rows) {
            md.append("| ").append(row.defence()).append(" | ").append(row.attack()).append(" | ")
                    .append(cell.apply(cells.get(key(row, "0"))));
            for (String eta : grid.fractions()) {
                md.append(" | ").append(cell.apply(cells.get(key(row, eta))));
            }
            md.append(" |\n");
        }
        return md.toString();
    }

    private static String key(PoisoningExperiment.Row row, String eta) {
        return row.defence() + "|" + row.attack() + "|" + eta;
    }

    private static String loadAverage() throws IOException {
        Path loadavg = Path.of("/proc/loadavg");
        return Files.isReadable(loadavg) ? String.join(" ", List.of(Files.readString(loadavg).split(" ")).subList(0, 3))
                : "unknown";
    }
}
