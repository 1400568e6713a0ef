package org.murmur.server.grpc;

import java.security.PublicKey;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.murmur.proto.identity.NodeId;
import org.murmur.server.model.ModelSchema;

/**
 * An in-memory {@link RoundGate}: a registry of node keys, tasks with their schemas and staked
 * nodes, and rounds with their state and proposers, changed by explicit calls rather than by a
 * clock or a role draw. It serves the upload path's tests and the round engine's, and any setup
 * where rounds are driven by hand. Admitted updates are kept per round ({@link #contributions}).
 * Thread-safe: every method locks the registry.
 */
public final class StaticRoundGate implements RoundGate {

    /** Where a round stands, as far as uploads are concerned. */
    public enum RoundState {
        /** Created, contribute phase not open yet: uploads refused (WRONG_PHASE). */
        PENDING,
        /** Contribute phase open: proposers may upload. */
        OPEN,
        /** Contribute deadline passed: uploads refused (DEADLINE_PASSED). */
        CLOSED
    }

    private static final class Task {
        final ModelSchema schema;
        final Set<NodeId> staked = new HashSet<>();
        final Set<NodeId> removed = new HashSet<>();
        final Map<Long, Round> rounds = new HashMap<>();

        Task(ModelSchema schema) {
            this.schema = schema;
        }
    }

    private static final class Round {
        RoundState state = RoundState.PENDING;
        final Set<NodeId> proposers = new HashSet<>();
        final List<Contribution> contributions = new ArrayList<>();
    }

    private final Map<NodeId, PublicKey> keys = new HashMap<>();
    private final Map<String, Task> tasks = new HashMap<>();

    /** Registers a node's Ed25519 public key and returns the node id derived from it. Idempotent. */
    public synchronized NodeId registerKey(PublicKey key) {
        NodeId id = NodeId.of(Objects.requireNonNull(key, "key"));
        keys.put(id, key);
        return id;
    }

    /** Adds a task; IllegalStateException when the id is taken. */
    public synchronized void addTask(String taskId, ModelSchema schema) {
        Objects.requireNonNull(taskId, "taskId");
        Objects.requireNonNull(schema, "schema");
        if (tasks.containsKey(taskId)) {
            throw new IllegalStateException("task " + taskId + " already exists");
        }
        tasks.put(taskId, new Task(schema));
    }

    /** Marks {@code nodes} as staked in the task (and no longer removed). */
    public synchronized void stake(String taskId, NodeId... nodes) {
        Task task = task(taskId);
        for (NodeId node : nodes) {
            task.staked.add(Objects.requireNonNull(node, "node"));
            task.removed.remove(node);
        }
    }

    /** Removes {@code node} from the task: its uploads are refused with NODE_REMOVED. */
    public synchronized void remove(String taskId, NodeId node) {
        Task task = task(taskId);
        task.removed.add(Objects.requireNonNull(node, "node"));
        task.staked.remove(node);
    }

    /** Adds round {@code round} (unsigned) to the task, in state PENDING; IllegalStateException if it exists. */
    public synchronized void addRound(String taskId, long round) {
        Task task = task(taskId);
        if (task.rounds.containsKey(round)) {
            throw new IllegalStateException("round " + Long.toUnsignedString(round) + " of task " + taskId
                    + " already exists");
        }
        task.rounds.put(round, new Round());
    }

    /** Opens the round's contribute phase. */
    public synchronized void openRound(String taskId, long round) {
        round(taskId, round).state = RoundState.OPEN;
    }

    /** Closes the round's contribute phase (its deadline passed). */
    public synchronized void closeRound(String taskId, long round) {
        round(taskId, round).state = RoundState.CLOSED;
    }

    public synchronized RoundState roundState(String taskId, long round) {
        return round(taskId, round).state;
    }

    /** Makes {@code nodes} proposers of the round. */
    public synchronized void addProposers(String taskId, long round, NodeId... nodes) {
        Round r = round(taskId, round);
        for (NodeId node : nodes) {
            r.proposers.add(Objects.requireNonNull(node, "node"));
        }
    }

    /** The updates admitted to the round so far, in admission order. */
    public synchronized List<Contribution> contributions(String taskId, long round) {
        return List.copyOf(round(taskId, round).contributions);
    }

    @Override
    public synchronized Optional<PublicKey> publicKey(NodeId node) {
        return Optional.ofNullable(keys.get(node));
    }

    @Override
    public synchronized Optional<ModelSchema> schema(String taskId) {
        Task task = tasks.get(taskId);
        return task == null ? Optional.empty() : Optional.of(task.schema);
    }

    @Override
    public synchronized UploadVerdict checkUpload(String taskId, long round, NodeId node) {
        Task task = tasks.get(taskId);
        if (task == null) {
            return UploadVerdict.UNKNOWN_TASK;
        }
        Round r = task.rounds.get(round);
        if (r == null) {
            return UploadVerdict.UNKNOWN_ROUND;
        }
        if (r.state == RoundState.PENDING) {
            return UploadVerdict.NOT_ACCEPTING;
        }
        if (r.state == RoundState.CLOSED) {
            return UploadVerdict.DEADLINE_PASSED;
        }
        if (task.removed.contains(node)) {
            return UploadVerdict.NODE_REMOVED;
        }
        if (!task.staked.contains(node)) {
            return UploadVerdict.NOT_STAKED;
        }
        if (!r.proposers.contains(node)) {
            return UploadVerdict.NOT_PROPOSER;
        }
        return UploadVerdict.ALLOWED;
    }

    /** Keeps the contribution; IllegalStateException for an unknown round or a second one of the same node. */
    @Override
    public synchronized void contributed(Contribution contribution) {
        Round r = round(contribution.key().taskId(), contribution.key().round());
        for (Contribution earlier : r.contributions) {
            if (earlier.key().equals(contribution.key())) {
                throw new IllegalStateException(contribution.key() + ": contribution already recorded");
            }
        }
        r.contributions.add(contribution);
    }

    private Task task(String taskId) {
        Task task = tasks.get(taskId);
        if (task == null) {
            throw new IllegalArgumentException("no task " + taskId);
        }
        return task;
    }

    private Round round(String taskId, long round) {
        Round r = task(taskId).rounds.get(round);
        if (r == null) {
            throw new IllegalArgumentException("no round " + Long.toUnsignedString(round) + " in task " + taskId);
        }
        return r;
    }
}
