package org.murmur.bench.demo;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.murmur.bench.fl.FashionMnist;
import org.murmur.bench.fl.FashionMnistMissingException;
import org.murmur.kernels.api.BackendUnavailableException;
import org.murmur.proto.client.RefusedException;
import org.murmur.server.grpc.InvalidConfigException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine;

/**
 * {@code murmur demo}: federated learning on Fashion-MNIST through a real Murmur server, with
 * poisoning attackers among the nodes, and the voting mechanism catching them. Every flag is
 * checked before anything runs; a bad one exits 2 naming it. Exit 3 when Fashion-MNIST or the
 * backend is missing or the data directory unusable, 1 when the run itself fails.
 */
@Command(name = "murmur demo", mixinStandardHelpOptions = true, version = "murmur 0.1.0", sortOptions = false,
        description = {"Run a federated-learning task on Fashion-MNIST through a Murmur server started in this"
                + " process: simulated nodes stake, train an MLP on private shards, propose updates and vote on"
                + " the aggregated candidates over gRPC; attackers poison their updates, and the vote rejects"
                + " and slashes them.", ""})
public final class DemoCommand implements Callable<Integer> {
    public static final int EXIT_FAILED = 1;
    public static final int EXIT_USAGE = 2;
    public static final int EXIT_ENVIRONMENT = 3;

    /** Held so the logging levels set in {@link #quietServerLogs} are not collected away. */
    private static final Logger MURMUR_LOGS = Logger.getLogger("org.murmur");
    private static final Logger GRPC_LOGS = Logger.getLogger("io.grpc");

    @Option(names = "--nodes", paramLabel = "N", defaultValue = "20",
            description = "Simulated nodes (default ${DEFAULT-VALUE}).")
    int nodes;

    @Option(names = "--rounds", paramLabel = "N", defaultValue = "10",
            description = "Rounds of the task (default ${DEFAULT-VALUE}).")
    int rounds;

    @Option(names = "--malicious", paramLabel = "FRACTION", defaultValue = "0.3",
            description = "Share of nodes that poison their updates when they propose (default ${DEFAULT-VALUE}).")
    double malicious;

    @Option(names = "--attack", paramLabel = "ATTACK", defaultValue = "label_flip",
            description = "label_flip (train on labels 9-y), sign_flip (the update reversed, x4), scale (the update"
                    + " x10), noise (the global model plus N(0, 0.3^2) noise), collude (every attacker sends one same"
                    + " sign-flipped update) (default ${DEFAULT-VALUE}).")
    String attack;

    @Option(names = "--lying-voters", paramLabel = "FRACTION", defaultValue = "0",
            description = "Share of nodes that invert their votes; the attackers are picked first"
                    + " (default ${DEFAULT-VALUE}).")
    double lyingVoters;

    @Option(names = "--no-voting", description = "Voters accept every candidate: plain FedAvg under attack, the"
            + " baseline.")
    boolean noVoting;

    @Option(names = "--stake", paramLabel = "TOKENS", defaultValue = "32",
            description = "What each node stakes; the task slashes 8 tokens per offence and removes a node below 10,"
                    + " so 32 removes it at its third offence (default ${DEFAULT-VALUE}; the paper's is 64).")
    int stake;

    @Option(names = "--rule", paramLabel = "RULE", defaultValue = "fedavg",
            description = "fedavg, median, trimmed_mean --k K, krum --f F, multikrum --f F --m M, bulyan --f F,"
                    + " geomedian, centered_clip --tau T, norm_clip_mean --c C (default ${DEFAULT-VALUE}).")
    String rule;

    @Option(names = "--f", paramLabel = "F", description = "Byzantine updates tolerated (krum, multikrum, bulyan).")
    Integer f;

    @Option(names = "--k", paramLabel = "K", description = "Values trimmed from each end (trimmed_mean).")
    Integer k;

    @Option(names = "--m", paramLabel = "M", description = "Updates averaged (multikrum).")
    Integer m;

    @Option(names = "--c", paramLabel = "C", description = "Norm bound (norm_clip_mean).")
    Double c;

    @Option(names = "--tau", paramLabel = "TAU",
            description = "Clipping radius around the previous global model (centered_clip).")
    Double tau;

    @Option(names = "--proposer-fraction", paramLabel = "FRACTION", defaultValue = "0.2",
            description = "Share of each round's nodes drawn as proposers (default ${DEFAULT-VALUE}).")
    String proposerFraction;

    @Option(names = "--partition", paramLabel = "iid|dirichlet", defaultValue = "iid",
            description = "iid, or dirichlet (label skew, see --alpha) (default ${DEFAULT-VALUE}).")
    String partition;

    @Option(names = "--alpha", paramLabel = "ALPHA",
            description = "Dirichlet concentration of --partition dirichlet; smaller is more skewed (default 0.5).")
    Double alpha;

    @Option(names = "--samples", paramLabel = "N", defaultValue = "60000",
            description = "Training images used, a seeded draw (default all ${DEFAULT-VALUE}).")
    int samples;

    @Option(names = "--seed", paramLabel = "SEED", defaultValue = "1",
            description = "Seeds the data split, the attackers, the initial model and the training; role draws"
                    + " follow the ledger and differ from run to run (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--backend", paramLabel = "auto|cpu|cuda", defaultValue = "auto",
            description = "Where the server aggregates (default ${DEFAULT-VALUE}).")
    String backend;

    @Option(names = "--data-dir", paramLabel = "DIR", defaultValue = "murmur-demo",
            description = "The server's data directory; a directory of earlier runs gets a new task"
                    + " (default ${DEFAULT-VALUE}).")
    Path dataDir;

    @Option(names = "--metrics-port", paramLabel = "PORT", defaultValue = "0",
            description = "Port of the Prometheus endpoint GET /metrics; 0 picks a free one"
                    + " (default ${DEFAULT-VALUE}).")
    int metricsPort;

    @Option(names = "--fashion-mnist", paramLabel = "DIR", description = "Directory of Fashion-MNIST's four IDX"
            + " files (default: Debian's dataset-fashion-mnist, installed when missing and run as root).")
    Path fashionMnist;

    @Option(names = "--quiet", description = "Print the summary only.")
    boolean quiet;

    private PrintStream out = System.out;
    private PrintStream err = System.err;

    public static void main(String[] args) {
        quietServerLogs();
        System.exit(run(args, System.out, System.err));
    }

    /** The server logs every round event; a demo prints its own account of them. */
    static void quietServerLogs() {
        MURMUR_LOGS.setLevel(Level.WARNING);
        GRPC_LOGS.setLevel(Level.WARNING);
    }

    /** Runs the command line with the given streams and returns the exit code. */
    static int run(String[] args, PrintStream out, PrintStream err) {
        DemoCommand command = new DemoCommand();
        command.out = out;
        command.err = err;
        CommandLine line = new CommandLine(command);
        line.setOut(new java.io.PrintWriter(out, true));
        line.setErr(new java.io.PrintWriter(err, true));
        line.setParameterExceptionHandler((exception, arguments) -> {
            err.println("murmur demo: " + exception.getMessage() + " (see --help)");
            return EXIT_USAGE;
        });
        line.setExecutionExceptionHandler((exception, commandLine, parseResult) -> command.fail(exception));
        return line.execute(args);
    }

    /** The settings {@code args} give, checked; for runs from code (tests, the experiment). */
    static DemoSettings settings(String... args) {
        DemoCommand command = new DemoCommand();
        new CommandLine(command).parseArgs(args);
        return command.settings();
    }

    @Override
    public Integer call() throws Exception {
        DemoSettings settings = settings();
        FashionMnist data = DemoDataset.load(settings.fashionMnist(), err);
        DemoRun.run(settings, data, new ConsoleView(out, System.console() != null, quiet));
        return 0;
    }

    DemoSettings settings() {
        int proposers = DemoSettings.proposersPerRound(nodes, proposerFraction);
        Partition dealt = Partition.parse(partition);
        if (alpha != null && dealt != Partition.DIRICHLET) {
            throw new InvalidConfigException("alpha", "applies to --partition dirichlet only");
        }
        return new DemoSettings(nodes, rounds, malicious, Attack.parse(attack), lyingVoters, !noVoting, stake,
                RuleChoice.of(rule, f, k, m, c, tau, proposers), proposerFraction, dealt, alpha == null ? 0.5 : alpha,
                samples, seed, backend, dataDir, metricsPort, Optional.ofNullable(fashionMnist));
    }

    private int fail(Exception exception) {
        if (exception instanceof InvalidConfigException) {
            err.println("murmur demo: --" + exception.getMessage());
            return EXIT_USAGE;
        }
        if (exception instanceof FashionMnistMissingException) {
            err.println("murmur demo: " + exception.getMessage() + " (--fashion-mnist DIR)");
            return EXIT_ENVIRONMENT;
        }
        if (exception instanceof IOException || exception instanceof BackendUnavailableException) {
            err.println("murmur demo: " + exception.getMessage());
            return EXIT_ENVIRONMENT;
        }
        if (exception instanceof NodeFailedException || exception instanceof RefusedException) {
            err.println("murmur demo: the run failed: " + exception.getMessage());
            return EXIT_FAILED;
        }
        err.println("murmur demo: internal error: " + exception);
        exception.printStackTrace(err);
        return EXIT_FAILED;
    }
}
