package org.murmur.bench.demo;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.murmur.bench.fl.FashionMnist;
import org.murmur.bench.fl.FashionMnistMissingException;

/**
 * The poisoning experiment of the FL Alliance paper on Fashion-MNIST: the global model's final
 * test accuracy for each defence (plain FedAvg, FedAvg with the vote, a robust rule with the vote)
 * against label flipping, sign flipping and lying voters, at each malicious fraction. Every cell is
 * a whole demo run through the real server, in one JVM so the data is loaded once. Writes the
 * report as Markdown to stdout, progress to stderr.
 *
 * <pre>PoisoningExperiment [--quick] --work DIR</pre>
 */
public final class PoisoningExperiment {
    /** One row of the table: a defence against an attack, as demo flags; "{eta}" is the malicious fraction. */
    record Row(String defence, String attack, List<String> flags) {
    }

    /**
     * The grid: the nodes, rounds and proposer fraction of every cell, and the fractions of the
     * columns. Both grids draw 10 proposers a round, so the share of poisoned updates in a round
     * strays little from the fraction.
     */
    record Grid(int nodes, int rounds, String proposerFraction, List<String> fractions) {
    }

    /** The paper's K = 50 clients, at the protocol's proposer fraction. */
    static final Grid FULL = new Grid(50, 10, "0.2", List.of("0.1", "0.2", "0.3", "0.4"));
    static final Grid QUICK = new Grid(20, 6, "0.5", List.of("0.2", "0.4"));

    /** The paper's stake: with its 8-token penalty, a node outlasts six offences. */
    static final int PAPER_STAKE = 64;

    static final List<Row> ROWS = List.of(
            new Row("FedAvg, no voting (under attack)", "label flip", List.of("--attack", "label_flip", "--no-voting")),
            new Row("FedAvg + voting", "label flip", List.of("--attack", "label_flip")),
            new Row("median + voting", "label flip", List.of("--attack", "label_flip", "--rule", "median")),
            new Row("FedAvg + voting, attackers also lie", "label flip + inverted votes",
                    List.of("--attack", "label_flip", "--lying-voters", "{eta}")),
            new Row("FedAvg, no voting (under attack)", "sign flip x4",
                    List.of("--attack", "sign_flip", "--no-voting")),
            new Row("FedAvg + voting", "sign flip x4", List.of("--attack", "sign_flip")),
            new Row("median + voting", "sign flip x4", List.of("--attack", "sign_flip", "--rule", "median")));

    private PoisoningExperiment() {
    }

    public static void main(String[] args) throws Exception {
        boolean quick = List.of(args).contains("--quick");
        int work = List.of(args).indexOf("--work");
        if (work < 0 || work + 1 >= args.length) {
            System.err.println("usage: PoisoningExperiment [--quick] --work DIR");
            System.exit(DemoCommand.EXIT_USAGE);
        }
        DemoCommand.quietServerLogs();
        FashionMnist data;
        try {
            data = DemoDataset.load(Optional.empty(), System.err);
        } catch (FashionMnistMissingException e) {
            System.err.println("poisoning: " + e.getMessage());
            System.exit(DemoCommand.EXIT_ENVIRONMENT);
            return;
        }
        Grid grid = quick ? QUICK : FULL;
        PoisoningTable table = run(grid, data, Path.of(args[work + 1]));
        System.out.print(table.markdown(quick));
        System.exit(0); // the servers' daemon threads are done; do not wait for their executors to wind down
    }

    static PoisoningTable run(Grid grid, FashionMnist data, Path work) throws Exception {
        long started = System.nanoTime();
        PoisoningTable table = new PoisoningTable(grid, ROWS);
        // Without attackers a row's defence alone matters: one clean run per rule and voting.
        Map<List<String>, DemoResult> clean = new HashMap<>();
        int cell = 0;
        int cells = ROWS.size() * grid.fractions().size();
        int runs = 0;
        for (Row row : ROWS) {
            List<String> defence = defence(row.flags());
            if (!clean.containsKey(defence)) {
                clean.put(defence, cell(grid, data, work, "clean-" + clean.size(), defence, "0"));
                runs++;
            }
            table.put(row, "0", clean.get(defence));
            for (String eta : grid.fractions()) {
                cell++;
                List<String> flags = row.flags().stream().map(flag -> flag.replace("{eta}", eta)).toList();
                DemoResult result = cell(grid, data, work, "cell-" + cell, flags, eta);
                table.put(row, eta, result);
                runs++;
                System.err.printf(Locale.ROOT, "poisoning: %d/%d %s, %s, eta %s: %s in %.0f s (%.0f s so far)%n", cell,
                        cells, row.defence(), row.attack(), eta, ConsoleView.percent(result.finalAccuracy()),
                        result.seconds(), (System.nanoTime() - started) / 1e9);
            }
        }
        table.finish(runs, (System.nanoTime() - started) / 1e9);
        return table;
    }

    /** The flags of a row that matter without attackers: the rule and whether voters vote. */
    private static List<String> defence(List<String> flags) {
        List<String> defence = new ArrayList<>();
        for (int i = 0; i < flags.size(); i++) {
            if (flags.get(i).equals("--no-voting")) {
                defence.add(flags.get(i));
            } else if (flags.get(i).equals("--rule")) {
                defence.add(flags.get(i));
                defence.add(flags.get(++i));
            }
        }
        return defence;
    }

    private static DemoResult cell(Grid grid, FashionMnist data, Path work, String name, List<String> flags,
                                   String eta) throws Exception {
        Path dataDir = work.resolve(name);
        List<String> args = new ArrayList<>(List.of("--nodes", Integer.toString(grid.nodes()), "--rounds",
                Integer.toString(grid.rounds()), "--proposer-fraction", grid.proposerFraction(), "--malicious", eta,
                "--stake", Integer.toString(PAPER_STAKE), "--data-dir", dataDir.toString()));
        args.addAll(flags);
        try {
            return DemoRun.run(DemoCommand.settings(args.toArray(String[]::new)), data, DemoView.SILENT);
        } finally {
            DemoRun.deleteTree(dataDir); // a cell's updates and models are of no further use, and add up
        }
    }
}
