package org.murmur.server.grpc;

import com.google.protobuf.ByteString;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.Optional;
import java.util.concurrent.Executor;
import org.murmur.proto.ledger.v1.LedgerEvent;
import org.murmur.proto.v1.CandidateProposed;
import org.murmur.proto.v1.Phase;
import org.murmur.proto.v1.PhaseChanged;
import org.murmur.proto.v1.RolesDrawn;
import org.murmur.proto.v1.RoundEvent;
import org.murmur.proto.v1.RoundFinished;
import org.murmur.proto.v1.TaskFinished;
import org.murmur.proto.v1.WatchRoundRequest;
import org.murmur.server.ledger.LedgerFile;
import org.murmur.server.ledger.LedgerRecord;
import org.murmur.server.round.LedgerEvents;
import org.murmur.server.round.TaskEngine;
import org.murmur.server.round.TaskRegistry;

/**
 * WatchRound: a task's round events as a server stream. The first event is the current state (a
 * PhaseChanged of the current round); then, when asked, the ledger's past events from a round on;
 * then live events as the engine records them, until TaskFinished. A watcher never blocks the
 * engine: live events are queued per watcher and sent from the sending executor; a watcher that
 * falls {@link #MAX_QUEUED} events behind is cut off with RESOURCE_EXHAUSTED. Thread-safe.
 */
public final class RoundWatchService {
    /** Events queued for one slow watcher before it is cut off. */
    static final int MAX_QUEUED = 10_000;

    private final TaskRegistry tasks;
    private final Executor sender;

    /** @param sender runs the sends; each watcher's events are sent in order, one at a time */
    public RoundWatchService(TaskRegistry tasks, Executor sender) {
        this.tasks = tasks;
        this.sender = sender;
    }

    public void watchRound(WatchRoundRequest request, StreamObserver<RoundEvent> responseObserver) {
        TaskEngine engine;
        try {
            engine = tasks.task(request.getTaskId());
        } catch (Refusal refusal) {
            responseObserver.onError(refusal.toStatusException());
            return;
        }
        Watcher watcher = new Watcher((ServerCallStreamObserver<RoundEvent>) responseObserver, engine, request);
        watcher.start();
    }

    /** Converts a ledger event into the round event watchers see; empty for events they do not see. */
    static Optional<RoundEvent> toRoundEvent(LedgerRecord record, LedgerEvent e) {
        RoundEvent.Builder out = RoundEvent.newBuilder().setTaskId(e.getTaskId()).setRound(e.getRound())
                .setTimeUnixMs(record.timeUnixMs()).setLedgerEventSha256(ByteString.copyFrom(record.hash()));
        switch (e.getEventCase()) {
            case TASK_CREATED -> out.setPhaseChanged(PhaseChanged.newBuilder().setPhase(Phase.PHASE_JOIN)
                    .setDeadlineUnixMs(record.timeUnixMs() + e.getTaskCreated().getParams().getRoundSeconds() * 1000L));
            case PHASE_CHANGED -> out.setPhaseChanged(PhaseChanged.newBuilder()
                    .setPhase(e.getPhaseChanged().getPhase())
                    .setDeadlineUnixMs(e.getPhaseChanged().getDeadlineUnixMs()));
            case ROLES_DRAWN -> out.setRolesDrawn(RolesDrawn.newBuilder().setSeed(e.getRolesDrawn().getSeed())
                    .addAllProposers(e.getRolesDrawn().getProposersList())
                    .addAllVoters(e.getRolesDrawn().getVotersList()));
            case CANDIDATE_PROPOSED -> {
                CandidateProposed.Builder candidate = CandidateProposed.newBuilder()
                        .setSha256(e.getCandidateProposed().getSha256()).setRule(e.getCandidateProposed().getRule())
                        .setUpdates(e.getCandidateProposed().getContributorsCount())
                        .addAllScores(e.getCandidateProposed().getScoresList());
                if (e.getCandidateProposed().hasServerMetric()) {
                    candidate.setServerMetric(e.getCandidateProposed().getServerMetric());
                }
                out.setCandidateProposed(candidate);
            }
            case ROUND_FINISHED -> out.setRoundFinished(RoundFinished.newBuilder()
                    .setResult(e.getRoundFinished().getResult()).setTally(e.getRoundFinished().getTally())
                    .setVotesRevealed(e.getRoundFinished().getVotesRevealed())
                    .setGlobalModelSha256(e.getRoundFinished().getGlobalModelSha256()));
            case TASK_FINISHED -> out.setTaskFinished(TaskFinished.newBuilder()
                    .setPoolReturned(e.getTaskFinished().getPoolReturned()));
            default -> {
                return Optional.empty();
            }
        }
        return Optional.of(out.build());
    }

    private final class Watcher implements TaskEngine.Listener {
        private final ServerCallStreamObserver<RoundEvent> call;
        private final TaskEngine engine;
        private final WatchRoundRequest request;
        private final ArrayDeque<RoundEvent> queue = new ArrayDeque<>();
        /** True while a job of the sender owns the sending; the start job owns it first. */
        private boolean sending = true;
        private boolean done;
        private long replayBefore;
        private boolean finishedAtStart;

        Watcher(ServerCallStreamObserver<RoundEvent> call, TaskEngine engine, WatchRoundRequest request) {
            this.call = call;
            this.engine = engine;
            this.request = request;
        }

        void start() {
            call.setOnCancelHandler(this::stop);
            RoundEvent current = engine.readAndListen(state -> {
                replayBefore = state.events();
                finishedAtStart = state.finished();
                return RoundEvent.newBuilder().setTaskId(state.taskId()).setRound(state.round())
                        .setTimeUnixMs(state.lastEventTime())
                        .setPhaseChanged(PhaseChanged.newBuilder().setPhase(state.phase())
                                .setDeadlineUnixMs(state.deadline())).build();
            }, this);
            sender.execute(() -> {
                if (!send(current)) {
                    return;
                }
                if (request.hasFromRound() && !replay()) {
                    return;
                }
                if (finishedAtStart) {
                    complete();
                    return;
                }
                drain();
            });
        }

        /** Sends the ledger's events of rounds from {@code from_round} recorded before this watcher listened. */
        private boolean replay() {
            long from = request.getFromRound();
            try {
                LedgerFile.verify(engine.ledgerPath(), engine.taskId(), record -> {
                    if (record.seq() >= replayBefore || done) {
                        return;
                    }
                    LedgerEvent event = LedgerEvents.decode(record);
                    if (Long.compareUnsigned(event.getRound(), from) >= 0) {
                        toRoundEvent(record, event).ifPresent(this::send);
                    }
                });
                return !done;
            } catch (IOException | RuntimeException e) {
                fail(Status.INTERNAL.withDescription("the ledger of task " + engine.taskId()
                        + " could not be read: " + e.getMessage()));
                return false;
            }
        }

        @Override
        public void recorded(LedgerRecord record, LedgerEvent event) {
            Optional<RoundEvent> roundEvent = toRoundEvent(record, event);
            if (roundEvent.isEmpty()) {
                return;
            }
            boolean overflow;
            synchronized (this) {
                if (done) {
                    return;
                }
                queue.add(roundEvent.get());
                overflow = queue.size() > MAX_QUEUED;
                if (!overflow && !sending) {
                    sending = true;
                    sender.execute(this::drain);
                }
            }
            if (overflow) {
                sender.execute(() -> fail(Status.RESOURCE_EXHAUSTED.withDescription("this watcher fell "
                        + MAX_QUEUED + " events behind; reconnect with from_round to catch up")));
            }
        }

        private void drain() {
            while (true) {
                RoundEvent next;
                synchronized (this) {
                    next = queue.poll();
                    if (next == null || done) {
                        sending = false;
                        return;
                    }
                }
                if (!send(next)) {
                    return;
                }
            }
        }

        /** Sends one event in order; ends the stream after TaskFinished. False once the stream is over. */
        private synchronized boolean send(RoundEvent event) {
            if (done) {
                return false;
            }
            call.onNext(event);
            if (event.hasTaskFinished()) {
                stop();
                call.onCompleted();
                return false;
            }
            return true;
        }

        private synchronized void complete() {
            if (!done) {
                stop();
                call.onCompleted();
            }
        }

        private synchronized void fail(Status status) {
            if (!done) {
                stop();
                call.onError(status.asRuntimeException());
            }
        }

        private synchronized void stop() {
            done = true;
            queue.clear();
            engine.removeListener(this);
        }
    }
}
