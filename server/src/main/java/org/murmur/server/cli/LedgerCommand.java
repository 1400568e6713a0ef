package org.murmur.server.cli;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.murmur.kernels.api.InvalidInputException;
import org.murmur.server.ledger.CorruptLedgerException;
import org.murmur.server.round.TaskRegistry;
import picocli.CommandLine.Command;

/**
 * {@code murmur ledger}: reads the task ledgers of a data directory without ever writing to them.
 * {@code verify} checks every chain and replays every event through the rules; {@code show} prints
 * one task's rounds, votes, settlements and balances. Without a subcommand it is a usage error.
 */
@Command(name = "ledger", mixinStandardHelpOptions = true,
        description = "Verify and read the task ledgers of a data directory (read-only).",
        subcommands = {VerifyCommand.class, ShowCommand.class})
final class LedgerCommand {
    /** Task ids as the server accepts them (they name a directory under DIR/tasks). */
    private static final Pattern TASK_ID = Pattern.compile("[a-z0-9_-][a-z0-9._-]{0,63}");
    private static final int SHORT_ID = 8;

    /** An entry of {@code DIR/tasks}: a task directory, or something the server would refuse to start with. */
    record Entry(String name, boolean isTask) {
    }

    private LedgerCommand() {
    }

    /** Fails with an environment error (exit 3) unless {@code dataDir} is a readable directory. */
    static void requireDataDir(Path dataDir) throws IOException {
        if (!Files.exists(dataDir)) {
            throw new NoSuchFileException(dataDir.toString(), null, "data directory does not exist");
        }
        if (!Files.isDirectory(dataDir)) {
            throw new NotDirectoryException(dataDir + " (--data-dir must be a data directory)");
        }
        if (!Files.isReadable(dataDir)) {
            throw new IOException("data directory " + dataDir + " is not readable");
        }
    }

    /** Every entry of {@code DIR/tasks}, sorted by name; none when the server never created it. */
    static List<Entry> entries(Path dataDir) throws IOException {
        requireDataDir(dataDir);
        Path tasks = tasksDir(dataDir);
        List<Entry> entries = new ArrayList<>();
        if (!Files.exists(tasks)) {
            return entries;
        }
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(tasks)) {
            for (Path entry : stream) {
                String name = entry.getFileName().toString();
                entries.add(new Entry(name, TASK_ID.matcher(name).matches() && Files.isDirectory(entry)));
            }
        }
        entries.sort((a, b) -> a.name().compareTo(b.name()));
        return entries;
    }

    static Path tasksDir(Path dataDir) {
        return dataDir.toAbsolutePath().normalize().resolve("tasks");
    }

    /** The ledger of {@code taskId}; invalid input (exit 1) when the data directory has no such task. */
    static Path requireTask(Path dataDir, String taskId) throws IOException {
        requireDataDir(dataDir);
        if (!TASK_ID.matcher(taskId).matches()) {
            throw new InvalidInputException("--task: '" + taskId + "' is not a task id (1 to 64 characters of"
                    + " [a-z0-9._-], not starting with a dot)");
        }
        Path ledger = TaskRegistry.ledgerPath(dataDir, taskId);
        if (!Files.isDirectory(ledger.getParent())) {
            throw new InvalidInputException("--task: data directory " + dataDir + " has no task '" + taskId + "'");
        }
        return ledger;
    }

    /** Where a ledger is corrupt and why, without the file: "record seq 12 at byte offset 3456: ...". */
    static String where(CorruptLedgerException e) {
        if (e.seq() < 0) {
            return "header: " + e.reason();
        }
        if (e.offset() < 0) {
            return e.reason();
        }
        return "record seq " + e.seq() + " at byte offset " + e.offset() + ": " + e.reason();
    }

    /** A node id as tables print it: its first 8 characters. */
    static String shortId(String node) {
        return node.length() <= SHORT_ID ? node : node.substring(0, SHORT_ID);
    }
}
