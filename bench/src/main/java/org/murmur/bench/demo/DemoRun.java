package org.murmur.bench.demo;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;
import org.murmur.bench.fl.FashionMnist;
import org.murmur.bench.fl.Mlp;
import org.murmur.bench.fl.Sgd;
import org.murmur.proto.client.RefusedException;
import org.murmur.proto.ledger.v1.LedgerEvent;
import org.murmur.server.round.TaskRegistry;

/**
 * One demo run end to end: starts the server in this process, creates the task, runs every node on
 * a thread of its own, and follows the task through its ledger events, scoring each round's
 * models on the test set, until the last round is settled and every node has withdrawn. The
 * server stops and the nodes' scratch files go when it returns; the data directory keeps the
 * ledger, the updates and the models.
 */
final class DemoRun {
    /** Hidden units of the 784-H-10 perceptron. */
    static final int HIDDEN = 128;
    /** Each proposer's local training: two epochs of its train part, batches of 32. */
    static final Sgd SGD = new Sgd(0.05f, 32, 2);
    /** How often the run checks its nodes while no ledger event comes. */
    private static final long POLL_MILLIS = 200;
    /** How long the nodes may take to withdraw once the last round is settled. */
    private static final long FINISH_SECONDS = 60;

    private DemoRun() {
    }

    /**
     * @throws NodeFailedException when a node stops on an error (the run is abandoned)
     * @throws RefusedException    when the server refuses the demo's own requests (creating the task,
     *                             downloading a model to score)
     */
    static DemoResult run(DemoSettings settings, FashionMnist data, DemoView view)
            throws IOException, InterruptedException, NodeFailedException, RefusedException {
        long started = System.nanoTime();
        Fleet fleet = Fleet.of(settings, data);
        Mlp initial = Mlp.forFashionMnist(HIDDEN, settings.seed());
        double initialAccuracy = initial.evaluate(data.test()).accuracy();
        Files.createDirectories(settings.dataDir());
        Path scratch = Files.createTempDirectory("murmur-demo-");
        ExecutorService pool = Executors.newFixedThreadPool(settings.nodes(), runnable -> {
            Thread thread = new Thread(runnable, "demo-node");
            thread.setDaemon(true);
            return thread;
        });
        try (DemoServer server = DemoServer.start(settings)) {
            String task = DemoTask.freshId(server);
            BlockingQueue<LedgerEvent> ledger = new LinkedBlockingQueue<>();
            server.tasks().addListener((record, event) -> {
                if (event.getTaskId().equals(task)) {
                    ledger.add(event);
                }
            });
            DemoTask.create(server, settings, task, initial, scratch);
            DemoStart start = new DemoStart(settings, task, TaskRegistry.ledgerPath(settings.dataDir(), task),
                    server.port(), server.backend(), server.metricsUrl(), fleet, initialAccuracy);
            view.started(start);

            CountDownLatch staked = new CountDownLatch(settings.nodes());
            List<Future<SimulatedNode.Result>> nodes = new ArrayList<>();
            for (Fleet.Member member : fleet.members()) {
                nodes.add(pool.submit(new SimulatedNode(member, task, settings.stakeUnits(), SGD, server.channel(),
                        scratch.resolve("node-" + member.index()), staked)));
            }
            List<RoundOutcome> rounds = new ArrayList<>();
            try (ModelScores scores = new ModelScores(server.channel(), task, data.test(), scratch)) {
                RoundTracker tracker = new RoundTracker();
                while (rounds.size() < settings.rounds()) {
                    LedgerEvent event = ledger.poll(POLL_MILLIS, TimeUnit.MILLISECONDS);
                    if (event == null) {
                        requireAlive(nodes, fleet);
                        continue;
                    }
                    Optional<RoundOutcome> outcome = tracker.accept(event);
                    if (outcome.isPresent()) {
                        RoundOutcome scored = scores.score(outcome.get());
                        rounds.add(scored);
                        view.round(scored);
                    } else {
                        view.progress(tracker.progress());
                    }
                }
            }
            List<SimulatedNode.Result> results = new ArrayList<>();
            for (int i = 0; i < nodes.size(); i++) {
                results.add(await(nodes.get(i), fleet.members().get(i)));
            }
            DemoResult result = DemoResult.of(start, rounds, results, (System.nanoTime() - started) / 1e9);
            view.finished(result);
            return result;
        } finally {
            pool.shutdownNow();
            deleteTree(scratch);
        }
    }

    /** Abandons the run as soon as a node has stopped on an error, naming the node. */
    private static void requireAlive(List<Future<SimulatedNode.Result>> nodes, Fleet fleet)
            throws NodeFailedException, InterruptedException {
        for (int i = 0; i < nodes.size(); i++) {
            if (nodes.get(i).isDone()) {
                await(nodes.get(i), fleet.members().get(i));
            }
        }
    }

    private static SimulatedNode.Result await(Future<SimulatedNode.Result> node, Fleet.Member member)
            throws NodeFailedException, InterruptedException {
        try {
            return node.get(FINISH_SECONDS, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw new NodeFailedException(member, e.getCause());
        } catch (TimeoutException e) {
            throw new NodeFailedException(member, e);
        }
    }

    /** Deletes {@code dir} and everything under it, if it exists. */
    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        }
    }
}
