package org.murmur.server.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.math.BigInteger;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import org.murmur.server.ledger.CorruptLedgerException;
import org.murmur.server.round.LedgerReplay;
import org.murmur.server.round.TaskRegistry;
import org.murmur.server.round.TaskState;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code murmur ledger verify}: checks every task ledger of a data directory, or one, exactly as the
 * server's start would, without modifying anything: the hash chain, then every event replayed
 * through the rules (role draws, tallies and settlements recomputed, conservation checked after
 * each event). A torn tail is reported, not cut. One line per task, then a summary; each corrupt
 * ledger also gets one line on stderr naming its file and the event.
 */
@Command(name = "verify", mixinStandardHelpOptions = true,
        description = {"Check every task ledger as the server's start would, without writing to it.",
                "",
                "Checks each hash chain, then replays every event through the rules: role draws, tallies and"
                        + " settlements are recomputed, and tokens must be conserved. A tail torn by a crash is"
                        + " reported; the server cuts it at its next start. Exit 0 when every ledger is sound, 1"
                        + " when one is corrupt, 3 when DIR cannot be read."})
final class VerifyCommand implements Callable<Integer> {
    @Option(names = "--data-dir", required = true, paramLabel = "DIR", description = "The server's data directory.")
    Path dataDir;

    @Option(names = "--task", paramLabel = "ID", description = "Verify only this task (default: every task).")
    String task;

    @Option(names = "--raw", description = "Print token amounts in the smallest unit too (18 decimals).")
    boolean raw;

    @Spec
    CommandSpec command;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = command.commandLine().getOut();
        PrintWriter err = command.commandLine().getErr();
        List<LedgerCommand.Entry> entries;
        if (task == null) {
            entries = LedgerCommand.entries(dataDir);
        } else {
            LedgerCommand.requireTask(dataDir, task);
            entries = List.of(new LedgerCommand.Entry(task, true));
        }
        int sound = 0;
        for (LedgerCommand.Entry entry : entries) {
            if (verify(entry, out, err)) {
                sound++;
            }
        }
        int failed = entries.size() - sound;
        if (entries.isEmpty()) {
            out.println("verified 0 tasks: " + LedgerCommand.tasksDir(dataDir) + " holds none");
        } else {
            out.println("verified " + entries.size() + (entries.size() == 1 ? " task: " : " tasks: ") + sound
                    + " OK, " + failed + " corrupt");
        }
        out.flush();
        return failed == 0 ? 0 : Main.EXIT_INVALID_INPUT;
    }

    /** Verifies one entry of DIR/tasks and prints its lines; whether it is sound. */
    private boolean verify(LedgerCommand.Entry entry, PrintWriter out, PrintWriter err) throws IOException {
        Path file = TaskRegistry.ledgerPath(dataDir, entry.name());
        if (!entry.isTask()) {
            Path path = LedgerCommand.tasksDir(dataDir).resolve(entry.name());
            out.println("task " + entry.name() + ": CORRUPT: not a task directory");
            err.println("murmur: " + path + " is not a task directory (the server refuses to start while it is"
                    + " there)");
            return false;
        }
        TaskHistory history = new TaskHistory();
        LedgerReplay.Result result;
        try {
            result = LedgerReplay.replay(file, entry.name(), history);
        } catch (NoSuchFileException e) {
            out.println("task " + entry.name() + ": CORRUPT: no ledger file");
            err.println("murmur: corrupt ledger " + file + ": the file is missing, so the task was never created");
            return false;
        } catch (CorruptLedgerException e) {
            out.println("task " + entry.name() + ": " + progress(history) + ": CORRUPT: " + LedgerCommand.where(e));
            err.println("murmur: corrupt ledger " + file + ": " + LedgerCommand.where(e));
            return false;
        }
        TaskHistory.Book book = history.book(result.state());
        boolean balanced = book.balanced();
        out.println("task " + entry.name() + ": " + progress(history) + ", " + status(result.state())
                + (balanced ? ": OK" : ": CORRUPT: tokens are not conserved"));
        if (result.tornBytes() > 0) {
            out.println("  torn tail: " + result.tornBytes() + " bytes after event " + (result.events() - 1)
                    + ", would be repaired at next start");
        }
        out.println("  conservation (tokens): stakes " + amount(book.stakes()) + " + rewards " + amount(book.rewards())
                + " + pool " + amount(book.pool()) + " + withdrawn " + amount(book.withdrawn()) + " = creator pool "
                + amount(book.creatorPool()) + " + deposits " + amount(book.deposits())
                + (balanced ? "" : ", but " + amount(book.held()) + " != " + amount(book.brought())));
        if (book.returned().signum() > 0) {
            out.println("  withdrawn includes the pool's remainder returned to the creator: " + amount(book.returned()));
        }
        if (!balanced) {
            err.println("murmur: corrupt ledger " + file + ": tokens are not conserved: " + book.held()
                    + " held but " + book.brought() + " brought");
        }
        return balanced;
    }

    private static String progress(TaskHistory history) {
        String rounds = history.rules() == null ? history.roundsFinished() + " rounds finished"
                : history.roundsFinished() + " of " + history.rules().totalRounds() + " rounds finished";
        return history.events() + (history.events() == 1 ? " event, " : " events, ") + rounds;
    }

    private static String status(TaskState state) {
        if (state.finished()) {
            return "task finished";
        }
        return "round " + state.round() + " in phase " + ShowCommand.phaseName(state.phase());
    }

    private String amount(BigInteger units) {
        return Amounts.tokens(units, raw);
    }
}
