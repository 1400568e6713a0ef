package org.murmur.server.cli;

import java.io.PrintWriter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;
import picocli.CommandLine;

/**
 * The {@code murmur} command line. Every failure ends in exactly one line on stderr that names the
 * file, tensor or parameter at fault, and an exit code: 1 for invalid input, 2 for a malformed
 * command line, 3 for an environment failure (I/O, an unavailable backend).
 */
@Command(name = "murmur", mixinStandardHelpOptions = true, version = "murmur 0.1.0",
        description = "GPU-accelerated aggregation server for FL Alliance-style federated learning.",
        subcommands = {AggregateCommand.class, ServeCommand.class, LedgerCommand.class})
public final class Main implements Runnable {
    public static final int EXIT_INVALID_INPUT = 1;
    public static final int EXIT_USAGE = 2;
    public static final int EXIT_ENVIRONMENT = 3;

    /** One line per log record: time, level, logger, message (and the stack trace of a throwable). */
    static final String LOG_FORMAT = "%1$tFT%1$tT.%1$tL %4$s %3$s %5$s%6$s%n";

    public static void main(String[] args) {
        if (System.getProperty("java.util.logging.SimpleFormatter.format") == null) {
            System.setProperty("java.util.logging.SimpleFormatter.format", LOG_FORMAT);
        }
        System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs the command line with the given streams and returns the exit code. */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        CommandLine commandLine = new CommandLine(new Main());
        commandLine.setOut(out);
        commandLine.setErr(err);
        commandLine.setParameterExceptionHandler((exception, arguments) -> {
            err.println("murmur: " + FailureHandler.oneLine(exception.getMessage()) + " (see --help)");
            return EXIT_USAGE;
        });
        commandLine.setExecutionExceptionHandler(new FailureHandler(err));
        return commandLine.execute(args);
    }

    @Spec
    CommandSpec command;

    @Override
    public void run() {
        command.commandLine().usage(command.commandLine().getOut());
    }
}
