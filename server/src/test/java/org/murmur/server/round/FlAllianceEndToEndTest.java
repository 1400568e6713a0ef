package org.murmur.server.round;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.murmur.proto.client.RefusedException;
import org.murmur.proto.client.RoundClient;
import org.murmur.proto.ledger.v1.LedgerEvent;
import org.murmur.proto.v1.Phase;
import org.murmur.proto.v1.RoundResult;
import org.murmur.proto.v1.TaskInfo;
import org.murmur.proto.v1.TaskParams;
import org.murmur.proto.v1.TaskState;
import org.murmur.server.economics.Tokens;
import org.murmur.server.ledger.CorruptLedgerException;
import org.murmur.server.ledger.LedgerFile;

/**
 * A complete FL Alliance task over real gRPC (Netty on loopback): six nodes stake, join three
 * rounds, are drawn as proposers or voters, push updates, vote by evaluating the candidate, and are
 * rewarded or slashed. One node poisons its update whenever it proposes, one voter always lies.
 * Checks the outcome of each round against the rules, conservation at the end, withdrawals, the
 * ledger's replay, a restart on the same data directory, and that a tampered ledger is refused.
 */
class FlAllianceEndToEndTest {
    private static final String TASK = "e2e";
    private static final BigInteger STAKE = Tokens.of(64);
    private static final BigInteger POOL = Tokens.of(1000);
    private static final int POISONER = 0;
    private static final int LIAR = 1;

    /** The poisoner pushes a scaled, shifted update whenever it proposes; the liar votes the opposite. */
    private static final TaskDriver.Behaviour CHEATS = new TaskDriver.Behaviour() {
        @Override
        public float[] update(int node, long round, float[] global, float[] truth) {
            if (node != POISONER) {
                return TaskDriver.Behaviour.super.update(node, round, global, truth);
            }
            float[] update = new float[global.length];
            for (int j = 0; j < update.length; j++) {
                update[j] = global[j] - 50f * (truth[j] - global[j]) - 5f;
            }
            return update;
        }

        @Override
        public int score(int node, long round, int honest) {
            return node == LIAR ? -honest : honest;
        }
    };

    @TempDir
    Path dir;

    private TaskDriver driver;

    @AfterEach
    void stop() {
        if (driver != null) {
            driver.close();
        }
    }

    @Test
    void aTaskRunsToTheEndWithRewardsSlashesAndAVerifiableLedger() throws Exception {
        PrometheusMeterRegistry meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        driver = TaskDriver.start(dir, 6, meters);
        Path data = driver.dataDir();
        TaskParams params = driver.params(3).setMinParticipants(6)
                .setProposerFraction("0.5").setMinStake(Tokens.format(Tokens.of(10)))
                .setRewardPool(Tokens.format(POOL)).build();

        RoundClient creator = driver.creator();
        RefusedException notAdmin = assertThrows(RefusedException.class,
                () -> driver.client(0).createTask(TASK, params));
        assertEquals("NOT_ADMIN", notAdmin.reason());
        TaskInfo created = creator.createTask(TASK, params);
        assertEquals(Phase.PHASE_JOIN, created.getPhase());
        assertEquals(Tokens.format(POOL), created.getPool());

        for (BigInteger stake : driver.stakeAll(TASK, STAKE)) {
            assertEquals(STAKE, stake);
        }

        Map<Long, RoundResult> results = new LinkedHashMap<>();
        for (long round = 0; round < 3; round++) {
            TaskDriver.Round played = driver.play(TASK, round, CHEATS);
            results.put(round, played.result());
            assertEquals(played.proposed(POISONER) ? RoundResult.ROUND_RESULT_REJECTED
                    : RoundResult.ROUND_RESULT_ACCEPTED, played.result(), "round " + round + " roles " + played.roles());
        }

        TaskInfo finished = creator.task(TASK);
        assertEquals(TaskState.TASK_STATE_FINISHED, finished.getState());
        assertEquals("0", finished.getPool());
        BigInteger paid = BigInteger.ZERO;
        for (RoundClient client : driver.clients()) {
            paid = paid.add(client.withdraw(TASK));
        }
        RefusedException twice = assertThrows(RefusedException.class, () -> driver.client(2).withdraw(TASK));
        assertEquals("NOT_STAKED", twice.reason());
        BigInteger returned = returnedToCreator(data);
        assertEquals(POOL.add(STAKE.multiply(BigInteger.valueOf(6))), paid.add(returned),
                "tokens are conserved: withdrawals + the pool returned = pool + deposits");

        String scrape = meters.scrape();
        long rejected = results.values().stream().filter(r -> r == RoundResult.ROUND_RESULT_REJECTED).count();
        assertTrue(scrape.contains("murmur_rounds_finished_total{result=\"rejected\"} " + rejected + ".0"), scrape);
        assertTrue(scrape.contains("murmur_rounds_finished_total{result=\"accepted\"} " + (3 - rejected) + ".0"),
                scrape);
        assertTrue(scrape.contains("murmur_aggregation_duration_seconds_count{backend=\"cpu\",rule=\"fedavg\"} 3"),
                scrape);
        assertTrue(scrape.contains("murmur_tasks{state=\"finished\"} 1.0"), scrape);
        assertTrue(scrape.contains("grpc_server_processing_duration_seconds_count{method=\"RevealVote\""), scrape);

        Path ledger = TaskRegistry.ledgerPath(data, TASK);
        org.murmur.server.round.TaskState replayed = replay(ledger);
        assertTrue(replayed.finished());
        assertEquals(3, replayed.round() + 1);

        driver.restart(new SimpleMeterRegistry());
        TaskInfo restarted = driver.creator().task(TASK);
        assertEquals(finished, restarted);

        Path tampered = dir.resolve("tampered.mlg");
        Files.copy(ledger, tampered, StandardCopyOption.REPLACE_EXISTING);
        byte[] bytes = Files.readAllBytes(tampered);
        bytes[bytes.length / 2] ^= 0x01;
        Files.write(tampered, bytes);
        assertThrows(CorruptLedgerException.class, () -> LedgerFile.verify(tampered, TASK, record -> { }));
    }

    private static org.murmur.server.round.TaskState replay(Path ledger) throws IOException {
        org.murmur.server.round.TaskState state = new org.murmur.server.round.TaskState(TASK);
        LedgerFile.verify(ledger, TASK, record -> state.apply(LedgerEvents.decode(record), record.timeUnixMs(),
                record.prevHash()));
        return state;
    }

    private static BigInteger returnedToCreator(Path data) throws IOException {
        BigInteger[] returned = {BigInteger.ZERO};
        LedgerFile.verify(TaskRegistry.ledgerPath(data, TASK), TASK, record -> {
            LedgerEvent event = LedgerEvents.decode(record);
            if (event.hasTaskFinished()) {
                returned[0] = new BigInteger(event.getTaskFinished().getPoolReturned());
            }
        });
        return returned[0];
    }
}
