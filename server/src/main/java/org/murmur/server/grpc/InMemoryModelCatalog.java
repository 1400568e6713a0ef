package org.murmur.server.grpc;

import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.TreeMap;

/**
 * A {@link ModelCatalog} held in memory and changed by explicit calls: a task's initial model, each
 * accepted global model and each round's candidate. The global model after round r is the last one
 * accepted at or before r (a rejected round keeps the previous one), or the initial model.
 * Thread-safe: every method locks the catalog.
 */
public final class InMemoryModelCatalog implements ModelCatalog {
    private static final class Task {
        Entry initial;
        Entry current;
        /** Accepted global models by round, compared as unsigned numbers. */
        final TreeMap<Long, Entry> accepted = new TreeMap<>(Long::compareUnsigned);
        final Map<Long, Entry> candidates = new HashMap<>();
    }

    private final Map<String, Task> tasks = new HashMap<>();

    /** Creates the task (if new) with its initial model, which is its current global model until one is accepted. */
    public synchronized void setInitial(String taskId, String sha256Hex) {
        Task task = tasks.computeIfAbsent(Objects.requireNonNull(taskId, "taskId"), t -> new Task());
        task.initial = new Entry(sha256Hex, 0, true);
        if (task.accepted.isEmpty()) {
            task.current = task.initial;
        }
    }

    /** Records the candidate of {@code round}. IllegalArgumentException for an unknown task. */
    public synchronized void putCandidate(String taskId, long round, String sha256Hex) {
        task(taskId).candidates.put(round, new Entry(sha256Hex, round, false));
    }

    /** Records that round {@code round} accepted {@code sha256Hex}: it becomes the current global model. */
    public synchronized void accept(String taskId, long round, String sha256Hex) {
        Task task = task(taskId);
        Entry entry = new Entry(sha256Hex, round, false);
        task.accepted.put(round, entry);
        task.current = task.accepted.lastEntry().getValue();
    }

    @Override
    public synchronized boolean hasTask(String taskId) {
        return tasks.containsKey(taskId);
    }

    @Override
    public synchronized Optional<Entry> global(String taskId, OptionalLong round) {
        Task task = tasks.get(taskId);
        if (task == null) {
            return Optional.empty();
        }
        if (round.isEmpty()) {
            return Optional.ofNullable(task.current);
        }
        Map.Entry<Long, Entry> floor = task.accepted.floorEntry(round.getAsLong());
        return floor != null ? Optional.of(floor.getValue()) : Optional.ofNullable(task.initial);
    }

    @Override
    public synchronized Optional<Entry> candidate(String taskId, long round) {
        Task task = tasks.get(taskId);
        return task == null ? Optional.empty() : Optional.ofNullable(task.candidates.get(round));
    }

    private Task task(String taskId) {
        Task task = tasks.get(taskId);
        if (task == null) {
            throw new IllegalArgumentException("no task " + taskId + " (setInitial first)");
        }
        return task;
    }
}
