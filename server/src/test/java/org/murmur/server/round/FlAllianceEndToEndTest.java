package org.murmur.server.round;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.murmur.proto.Wire;
import org.murmur.proto.client.MurmurClient;
import org.murmur.proto.client.PullRequest;
import org.murmur.proto.client.RefusedException;
import org.murmur.proto.client.RoundClient;
import org.murmur.proto.client.UpdateUpload;
import org.murmur.proto.identity.NodeKeys;
import org.murmur.proto.ledger.v1.LedgerEvent;
import org.murmur.proto.safetensors.SafetensorsFile;
import org.murmur.proto.safetensors.SafetensorsWriter;
import org.murmur.proto.safetensors.TensorDtype;
import org.murmur.proto.safetensors.TensorHeader;
import org.murmur.proto.v1.Assignment;
import org.murmur.proto.v1.Phase;
import org.murmur.proto.v1.Role;
import org.murmur.proto.v1.RoundEvent;
import org.murmur.proto.v1.RoundResult;
import org.murmur.proto.v1.TaskInfo;
import org.murmur.proto.v1.TaskParams;
import org.murmur.proto.v1.TaskState;
import org.murmur.server.economics.Tokens;
import org.murmur.server.grpc.MurmurServer;
import org.murmur.server.grpc.ServerConfig;
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
    private static final int DIM = 256;
    private static final List<TensorHeader> SCHEMA = List.of(new TensorHeader("w", TensorDtype.F32, new long[] {DIM}));
    private static final BigInteger STAKE = Tokens.of(64);
    private static final BigInteger POOL = Tokens.of(1000);
    private static final int POISONER = 0;
    private static final int LIAR = 1;

    @TempDir
    Path dir;

    private MurmurServer server;
    private ManagedChannel channel;

    @AfterEach
    void stop() {
        if (channel != null) {
            channel.shutdownNow();
        }
        if (server != null) {
            server.close();
        }
    }

    @Test
    void aTaskRunsToTheEndWithRewardsSlashesAndAVerifiableLedger() throws Exception {
        NodeKeys admin = NodeKeys.generate();
        List<NodeKeys> nodes = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            nodes.add(NodeKeys.generate());
        }
        Path data = dir.resolve("data");
        ServerConfig config = ServerConfig.builder(data).port(0).backend("cpu").admins(Set.of(admin.nodeId())).build();
        PrometheusMeterRegistry meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        server = MurmurServer.start(config, meters);
        channel = ManagedChannelBuilder.forAddress("localhost", server.port()).usePlaintext()
                .maxInboundMessageSize(Wire.MAX_MESSAGE_BYTES).build();
        MurmurClient transfers = MurmurClient.of(channel);

        float[] truth = new float[DIM];
        for (int i = 0; i < DIM; i++) {
            truth[i] = (float) Math.sin(i);
        }
        String initial = server.modelStore().put(writeModel(dir.resolve("initial.safetensors"), new float[DIM]));
        TaskParams params = TaskParams.newBuilder().setTotalRounds(3).setMinParticipants(6)
                .setProposerFraction("0.5").setMinStake(Tokens.format(Tokens.of(10)))
                .setRewardPool(Tokens.format(POOL))
                .addAllModelSchema(List.of(org.murmur.proto.TensorSpecs.of("w", TensorDtype.F32, new long[] {DIM})))
                .setInitialModelSha256(ByteString.copyFrom(HexFormat.of().parseHex(initial))).build();

        RoundClient creator = new RoundClient(channel, admin);
        RefusedException notAdmin = assertThrows(RefusedException.class,
                () -> new RoundClient(channel, nodes.get(0)).createTask(TASK, params));
        assertEquals("NOT_ADMIN", notAdmin.reason());
        TaskInfo created = creator.createTask(TASK, params);
        assertEquals(Phase.PHASE_JOIN, created.getPhase());
        assertEquals(Tokens.format(POOL), created.getPool());

        List<RoundClient> clients = new ArrayList<>();
        for (NodeKeys node : nodes) {
            RoundClient client = new RoundClient(channel, node);
            assertEquals(STAKE, client.stake(TASK, STAKE));
            clients.add(client);
        }
        Iterator<RoundEvent> events = creator.watch(TASK, OptionalLong.of(0));

        Map<Long, RoundResult> results = new LinkedHashMap<>();
        for (long round = 0; round < 3; round++) {
            for (RoundClient client : clients) {
                client.join(TASK, round);
            }
            Map<Integer, Role> roles = new LinkedHashMap<>();
            for (int i = 0; i < clients.size(); i++) {
                Assignment assignment = clients.get(i).assignment(TASK, round);
                roles.put(i, assignment.getRole());
            }
            awaitPhase(creator, round, Phase.PHASE_CONTRIBUTE);
            Path global = dir.resolve("global-" + round + ".safetensors");
            transfers.pullModel(PullRequest.global(TASK), global);
            float[] start = readModel(global);
            boolean poisoned = false;
            for (Map.Entry<Integer, Role> role : roles.entrySet()) {
                if (role.getValue() != Role.ROLE_PROPOSER) {
                    continue;
                }
                float[] update = new float[DIM];
                for (int j = 0; j < DIM; j++) {
                    update[j] = start[j] + 0.5f * (truth[j] - start[j]);
                    if (role.getKey() == POISONER) {
                        update[j] = start[j] - 50f * (truth[j] - start[j]) - 5f;
                    }
                }
                poisoned |= role.getKey() == POISONER;
                Path file = writeModel(dir.resolve("update-" + round + "-" + role.getKey() + ".safetensors"), update);
                transfers.pushUpdate(new UpdateUpload(nodes.get(role.getKey()), TASK, round, file, 100));
            }
            awaitPhase(creator, round, Phase.PHASE_COMMIT);
            Path candidateFile = dir.resolve("candidate-" + round + ".safetensors");
            transfers.pullModel(PullRequest.candidate(TASK, round), candidateFile);
            double candidateMetric = -distance(readModel(candidateFile), truth);
            double previousMetric = -distance(start, truth);
            ByteString candidateSha = ByteString.copyFrom(sha256(candidateFile));
            Map<Integer, RoundClient.Ballot> ballots = new LinkedHashMap<>();
            for (Map.Entry<Integer, Role> role : roles.entrySet()) {
                if (role.getValue() != Role.ROLE_VOTER) {
                    continue;
                }
                int honest = candidateMetric >= previousMetric ? 1 : -1;
                int score = role.getKey() == LIAR ? -honest : honest;
                ballots.put(role.getKey(), clients.get(role.getKey()).commitVote(TASK, round, candidateSha, score,
                        candidateMetric));
            }
            awaitPhase(creator, round, Phase.PHASE_REVEAL);
            for (Map.Entry<Integer, RoundClient.Ballot> ballot : ballots.entrySet()) {
                clients.get(ballot.getKey()).revealVote(ballot.getValue());
            }
            RoundResult result = awaitRoundFinished(events, round);
            results.put(round, result);
            assertEquals(poisoned ? RoundResult.ROUND_RESULT_REJECTED : RoundResult.ROUND_RESULT_ACCEPTED, result,
                    "round " + round + " roles " + roles);
        }

        TaskInfo finished = creator.task(TASK);
        assertEquals(TaskState.TASK_STATE_FINISHED, finished.getState());
        assertEquals("0", finished.getPool());
        BigInteger paid = BigInteger.ZERO;
        for (RoundClient client : clients) {
            paid = paid.add(client.withdraw(TASK));
        }
        RefusedException twice = assertThrows(RefusedException.class, () -> clients.get(2).withdraw(TASK));
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

        server.close();
        server = MurmurServer.start(config, new SimpleMeterRegistry());
        channel.shutdownNow();
        channel = ManagedChannelBuilder.forAddress("localhost", server.port()).usePlaintext().build();
        TaskInfo restarted = new RoundClient(channel, admin).task(TASK);
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

    private static void awaitPhase(RoundClient client, long round, Phase phase) throws Exception {
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (System.nanoTime() < deadline) {
            TaskInfo info = client.task(TASK);
            if (info.getCurrentRound() == round && info.getPhase() == phase) {
                return;
            }
            Thread.sleep(10);
        }
        throw new AssertionError("round " + round + " never reached " + phase + ": " + client.task(TASK));
    }

    private static RoundResult awaitRoundFinished(Iterator<RoundEvent> events, long round) {
        while (events.hasNext()) {
            RoundEvent event = events.next();
            if (event.getRound() == round && event.hasRoundFinished()) {
                return event.getRoundFinished().getResult();
            }
        }
        throw new AssertionError("the event stream ended before round " + round + " finished");
    }

    private static Path writeModel(Path file, float[] values) throws IOException {
        SafetensorsWriter.write(file, Map.of(), SCHEMA, (tensor, out) -> {
            ByteBuffer bytes = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
            for (float v : values) {
                bytes.putFloat(v);
            }
            bytes.flip();
            while (bytes.hasRemaining()) {
                out.write(bytes);
            }
        });
        return file;
    }

    private static float[] readModel(Path file) {
        try (SafetensorsFile model = SafetensorsFile.open(file)) {
            ByteBuffer data = model.map(model.tensors().get(0), 1 << 20)[0].order(ByteOrder.LITTLE_ENDIAN);
            float[] values = new float[DIM];
            data.asFloatBuffer().get(values);
            return values;
        }
    }

    private static double distance(float[] a, float[] b) {
        double sum = 0;
        for (int i = 0; i < a.length; i++) {
            sum += (a[i] - b[i]) * (double) (a[i] - b[i]);
        }
        return Math.sqrt(sum);
    }

    private static byte[] sha256(Path file) throws Exception {
        return java.security.MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file));
    }
}
