package org.murmur.server.round;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Objects;
import java.util.function.Consumer;
import org.murmur.proto.ledger.v1.LedgerEvent;
import org.murmur.server.ledger.CorruptLedgerException;
import org.murmur.server.ledger.LedgerFile;
import org.murmur.server.ledger.LedgerRecord;
import org.murmur.server.ledger.Verification;

/**
 * Replays a task's ledger file into a fresh {@link TaskState} without modifying the file: the chain
 * is checked by {@link LedgerFile#verify}, and every event by {@link TaskState#apply}, which
 * recomputes each role draw, tally and settlement and checks conservation after every event. The
 * same replay {@link TaskEngine#open} runs at start, except that a torn tail is reported here, not
 * cut. Stateless and thread-safe; each call builds its own state.
 */
public final class LedgerReplay {

    /** Told of each event once the state has applied it, in ledger order. */
    @FunctionalInterface
    public interface Listener {
        /**
         * @param state the live state after {@code event}: read it during the call, do not keep it
         */
        void replayed(LedgerRecord record, LedgerEvent event, TaskState state);
    }

    /**
     * A ledger that replayed without breaking a rule.
     *
     * @param file      the ledger file
     * @param state     the task's state after the last complete event
     * @param events    complete events replayed
     * @param tornBytes bytes past them that a crash left and that the next start would cut
     * @param head      hash of the last complete record
     */
    public record Result(Path file, TaskState state, long events, long tornBytes, byte[] head) {
        public Result {
            head = head.clone();
        }

        @Override
        public byte[] head() {
            return head.clone();
        }
    }

    private LedgerReplay() {
    }

    /**
     * Replays the ledger of task {@code taskId} at {@code file}, calling {@code listener} after each
     * event. A broken chain or a broken rule throws {@link CorruptLedgerException} naming the record's
     * seq (and, for a broken rule, the event's type and the rule, with offset -1); {@code listener}
     * has by then seen every event before it. A ledger with no event at all is corrupt too, since the
     * server cannot start from it.
     *
     * @throws java.nio.file.NoSuchFileException when there is no file
     */
    public static Result replay(Path file, String taskId, Listener listener) throws IOException {
        Objects.requireNonNull(listener, "listener");
        TaskState state = new TaskState(taskId);
        Verification verification;
        try {
            verification = LedgerFile.verify(file, taskId, record -> {
                LedgerEvent event = apply(state, record, file);
                listener.replayed(record, event, state);
            });
        } catch (UncheckedCorruption e) {
            throw e.getCause();
        }
        if (!state.created()) {
            throw new CorruptLedgerException(file, 0, -1, "event 0 (taskCreated) is missing: the ledger of task "
                    + taskId + " holds no event, and the server cannot start from it");
        }
        return new Result(file, state, verification.records(), verification.tornBytes(), verification.head());
    }

    /**
     * A record consumer that applies each record's event to {@code state}; a broken rule escapes as
     * an {@link UncheckedCorruption} carrying the {@link CorruptLedgerException} (unwrap it where the
     * ledger call returns).
     */
    static Consumer<LedgerRecord> into(TaskState state, Path file) {
        return record -> apply(state, record, file);
    }

    private static LedgerEvent apply(TaskState state, LedgerRecord record, Path file) {
        try {
            LedgerEvent event = LedgerEvents.decode(record);
            state.apply(event, record.timeUnixMs(), record.prevHash());
            return event;
        } catch (LedgerViolation e) {
            throw corrupt(file, record, "breaks the rules: " + e.getMessage());
        } catch (RuntimeException e) {
            // A crafted record can reach arithmetic the rules never produce; it is still the ledger's fault.
            throw corrupt(file, record, "cannot be replayed: " + e);
        }
    }

    private static UncheckedCorruption corrupt(Path file, LedgerRecord record, String what) {
        return new UncheckedCorruption(new CorruptLedgerException(file, record.seq(), -1,
                "event " + record.seq() + " (" + record.type() + ") " + what));
    }

    /** Carries a {@link CorruptLedgerException} out of a record consumer. */
    static final class UncheckedCorruption extends RuntimeException {
        private static final long serialVersionUID = 1L;

        UncheckedCorruption(CorruptLedgerException cause) {
            super(cause);
        }

        @Override
        public synchronized CorruptLedgerException getCause() {
            return (CorruptLedgerException) super.getCause();
        }
    }
}
