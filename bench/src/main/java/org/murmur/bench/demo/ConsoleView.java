package org.murmur.bench.demo;

import java.io.PrintStream;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;
import java.util.Locale;
import java.util.Map;
import org.murmur.proto.v1.RoundResult;
import org.murmur.server.economics.Tokens;

/**
 * The demo as people read it: the set-up, a line per round as it is settled, and a summary. On a
 * terminal the current round's progress is one line redrawn in place (at most ten times a second)
 * and replaced by the round's line; elsewhere (a log, a pipe) only whole lines are written.
 * {@code quiet} keeps the summary alone.
 */
final class ConsoleView implements DemoView {
    private static final long REDRAW_NANOS = 100_000_000L;

    private final PrintStream out;
    private final boolean terminal;
    private final boolean quiet;
    private DemoStart start;
    private int drawn;
    private long lastDrawn;

    ConsoleView(PrintStream out, boolean terminal, boolean quiet) {
        this.out = out;
        this.terminal = terminal;
        this.quiet = quiet;
    }

    @Override
    public void started(DemoStart start) {
        this.start = start;
        if (quiet) {
            return;
        }
        DemoSettings s = start.settings();
        out.printf(Locale.ROOT, "murmur demo: %d nodes, %d rounds, rule %s, %s%n", s.nodes(), s.rounds(),
                s.rule().describe(), s.voting() ? "voting on" : "no voting (every candidate accepted)");
        out.printf(Locale.ROOT, "  data: Fashion-MNIST, %d training images dealt %s, each node's %d%% train / %d%% "
                        + "test split; 10,000 test images score the global model%n", s.samples(),
                s.partition() == Partition.IID ? "iid" : "by Dirichlet(" + s.alpha() + ") label skew",
                Math.round(Fleet.TRAIN_FRACTION * 100), Math.round((1 - Fleet.TRAIN_FRACTION) * 100));
        out.printf(Locale.ROOT, "  nodes: %d attackers (%s), %d lying voters; %d proposers a round; stake %d tokens,"
                        + " slashed %s per offence, removed below %s%n", start.fleet().attackers(), s.attack().flag(),
                start.fleet().liars(), s.proposersPerRound(), s.stake(), tokens(DemoTask.PENALTY),
                tokens(DemoTask.MIN_STAKE));
        out.printf(Locale.ROOT, "  server: 127.0.0.1:%d, backend %s, task %s in %s; metrics at %s%n", start.port(),
                start.backend(), start.task(), s.dataDir(), start.metricsUrl());
        out.printf(Locale.ROOT, "  initial model: %s test accuracy%n", percent(start.initialAccuracy()));
        out.flush();
    }

    @Override
    public void progress(RoundTracker.Progress p) {
        if (quiet || !terminal || System.nanoTime() - lastDrawn < REDRAW_NANOS) {
            return;
        }
        lastDrawn = System.nanoTime();
        String line = String.format(Locale.ROOT, "round %d  %s", p.round(), switch (p.phase()) {
            case PHASE_JOIN -> "joining: " + p.joined() + " joined";
            case PHASE_CONTRIBUTE -> "training: " + p.contributed() + "/" + p.proposers() + " updates";
            case PHASE_AGGREGATE -> "aggregating " + p.contributed() + " updates";
            case PHASE_COMMIT -> "voting: " + p.committed() + "/" + p.voters() + " committed";
            case PHASE_REVEAL -> "revealing: " + p.revealed() + "/" + p.committed() + " revealed";
            default -> "settling";
        });
        draw(line);
    }

    @Override
    public void round(RoundOutcome o) {
        if (quiet) {
            return;
        }
        clear();
        long attackers = o.proposers().stream().filter(node -> start.fleet().member(node)
                .map(Fleet.Member::attacker).orElse(false)).count();
        StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "round %d  %-9s", o.round(), result(o)));
        if (o.result() == RoundResult.ROUND_RESULT_FAILED) {
            line.append(" ").append(o.reason());
        } else {
            line.append(String.format(Locale.ROOT, " votes %2d for %2d against, V %-5s  candidate %6s",
                    o.votesFor(), o.votesAgainst(), signed(o.tally()), percent(o.candidateAccuracy())));
        }
        line.append(String.format(Locale.ROOT, "  global %6s  proposers %d (%d attacking)",
                percent(o.globalAccuracy()), o.proposers().size(), attackers));
        BigInteger fromMalicious = BigInteger.ZERO;
        BigInteger fromHonest = BigInteger.ZERO;
        for (Map.Entry<String, BigInteger> slash : o.slashed().entrySet()) {
            if (start.fleet().malicious(slash.getKey())) {
                fromMalicious = fromMalicious.add(slash.getValue());
            } else {
                fromHonest = fromHonest.add(slash.getValue());
            }
        }
        if (!o.slashed().isEmpty()) {
            line.append("  slashed ").append(tokens(fromMalicious)).append(" malicious / ").append(tokens(fromHonest))
                    .append(" honest");
        }
        for (String node : o.removed()) {
            line.append(start.fleet().member(node).map(m -> "  removed node " + m.index()
                    + (m.malicious() ? " (malicious)" : " (honest)")).orElse("  removed " + node));
        }
        out.println(line);
        out.flush();
    }

    @Override
    public void finished(DemoResult r) {
        clear();
        DemoSettings s = r.start().settings();
        out.printf(Locale.ROOT, "done in %.1f s: %d rounds, %d accepted, %d rejected, %d void, %d failed%n",
                r.seconds(), r.rounds().size(), r.count(RoundResult.ROUND_RESULT_ACCEPTED),
                r.count(RoundResult.ROUND_RESULT_REJECTED), r.count(RoundResult.ROUND_RESULT_VOID),
                r.count(RoundResult.ROUND_RESULT_FAILED));
        out.printf(Locale.ROOT, "test accuracy of the global model: %s initial -> %s final%n",
                percent(r.start().initialAccuracy()), percent(r.finalAccuracy()));
        out.printf(Locale.ROOT, "malicious nodes (%d): slashed %s tokens (%s each), %d removed; staked %s,"
                        + " withdrew %s%n", r.malicious(), tokens(r.slashedMalicious()),
                perNode(r.slashedMalicious(), r.malicious()), r.removedMalicious(), tokens(r.depositedMalicious()),
                tokens(r.withdrawnMalicious()));
        out.printf(Locale.ROOT, "honest nodes (%d): slashed %s tokens (%s each), %d removed; staked %s, withdrew %s%n",
                r.honest(), tokens(r.slashedHonest()), perNode(r.slashedHonest(), r.honest()), r.removedHonest(),
                tokens(r.depositedHonest()), tokens(r.withdrawnHonest()));
        out.printf("ledger: %s (check it: ./murmur ledger verify --data-dir %s)%n",
                s.dataDir().resolve("tasks").resolve(r.start().task()).resolve(r.start().ledger().getFileName()),
                s.dataDir());
        out.printf("metrics: %s (served while the demo ran)%n", r.start().metricsUrl());
        out.flush();
    }

    private void draw(String line) {
        out.print("\r" + line + " ".repeat(Math.max(0, drawn - line.length())));
        out.flush();
        drawn = line.length();
    }

    /** Erases the progress line, if one is drawn. */
    private void clear() {
        if (drawn > 0) {
            out.print("\r" + " ".repeat(drawn) + "\r");
            drawn = 0;
        }
    }

    private static String result(RoundOutcome o) {
        return switch (o.result()) {
            case ROUND_RESULT_ACCEPTED -> "accepted";
            case ROUND_RESULT_REJECTED -> "REJECTED";
            case ROUND_RESULT_VOID -> "void";
            case ROUND_RESULT_FAILED -> "FAILED";
            default -> o.result().name();
        };
    }

    static String percent(double accuracy) {
        return Double.isNaN(accuracy) ? "-" : String.format(Locale.ROOT, "%.1f%%", 100 * accuracy);
    }

    /** Token units as whole tokens with up to two decimals: 8000000000000000000 is "8". */
    static String tokens(BigInteger units) {
        BigDecimal value = new BigDecimal(units).divide(new BigDecimal(Tokens.ONE)).setScale(2, RoundingMode.HALF_EVEN)
                .stripTrailingZeros();
        return value.scale() < 0 ? value.setScale(0).toPlainString() : value.toPlainString();
    }

    static String perNode(BigInteger units, long nodes) {
        return nodes == 0 ? "-" : tokens(units.divide(BigInteger.valueOf(nodes)));
    }

    private static String signed(BigInteger units) {
        return (units.signum() > 0 ? "+" : "") + tokens(units);
    }
}
