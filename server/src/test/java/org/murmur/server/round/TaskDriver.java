package org.murmur.server.round;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import org.murmur.proto.TensorSpecs;
import org.murmur.proto.Wire;
import org.murmur.proto.client.MurmurClient;
import org.murmur.proto.client.PullRequest;
import org.murmur.proto.client.RoundClient;
import org.murmur.proto.client.UpdateUpload;
import org.murmur.proto.identity.NodeKeys;
import org.murmur.proto.safetensors.SafetensorsFile;
import org.murmur.proto.safetensors.SafetensorsWriter;
import org.murmur.proto.safetensors.TensorDtype;
import org.murmur.proto.safetensors.TensorHeader;
import org.murmur.proto.v1.Phase;
import org.murmur.proto.v1.Role;
import org.murmur.proto.v1.RoundEvent;
import org.murmur.proto.v1.RoundResult;
import org.murmur.proto.v1.TaskInfo;
import org.murmur.proto.v1.TaskParams;
import org.murmur.server.grpc.MurmurServer;
import org.murmur.server.grpc.ServerConfig;

/**
 * Runs FL Alliance tasks through a whole server over real gRPC (Netty on loopback), the way nodes
 * run them with the Java SDK: an admin that creates tasks, {@code n} nodes that stake, join, are
 * drawn, push updates of a one-tensor model (a vector of {@link #DIM} floats trained towards a
 * fixed truth), and vote on each candidate by its distance to that truth. A {@link Behaviour}
 * chooses what each node proposes and votes, so a test can plant a poisoner or a liar. Not
 * thread-safe: one test drives it.
 */
public final class TaskDriver implements AutoCloseable {
    public static final int DIM = 256;
    private static final List<TensorHeader> SCHEMA =
            List.of(new TensorHeader("w", TensorDtype.F32, new long[] {DIM}));
    private static final long PHASE_WAIT_NANOS = 30_000_000_000L;

    /** What each node does when drawn; the defaults are an honest node's. */
    public interface Behaviour {
        /** The update node {@code node} pushes in {@code round}: half-way from the global model to the truth. */
        default float[] update(int node, long round, float[] global, float[] truth) {
            float[] update = new float[DIM];
            for (int j = 0; j < DIM; j++) {
                update[j] = global[j] + 0.5f * (truth[j] - global[j]);
            }
            return update;
        }

        /** The score node {@code node} votes in {@code round}, where an honest evaluation gives {@code honest}. */
        default int score(int node, long round, int honest) {
            return honest;
        }
    }

    public static final Behaviour HONEST = new Behaviour() {
    };

    /** One round as it was played: each node's role (by index) and the result. */
    public record Round(long round, Map<Integer, Role> roles, RoundResult result) {
        public boolean proposed(int node) {
            return roles.get(node) == Role.ROLE_PROPOSER;
        }
    }

    private final Path dir;
    private final ServerConfig config;
    private final NodeKeys admin = NodeKeys.generate();
    private final List<NodeKeys> nodes = new ArrayList<>();
    private final List<RoundClient> clients = new ArrayList<>();
    private final Map<String, Iterator<RoundEvent>> events = new HashMap<>();
    private final float[] truth = new float[DIM];
    private MurmurServer server;
    private ManagedChannel channel;
    private MurmurClient transfers;

    private TaskDriver(Path dir, int nodeCount) {
        this.dir = dir;
        for (int i = 0; i < nodeCount; i++) {
            nodes.add(NodeKeys.generate());
        }
        for (int i = 0; i < DIM; i++) {
            truth[i] = (float) Math.sin(i);
        }
        this.config = ServerConfig.builder(dir.resolve("data")).port(0).backend("cpu")
                .admins(Set.of(admin.nodeId())).build();
    }

    /**
     * Starts a whole server (CPU backend, any free port) on {@code dir/data} with meters in
     * {@code meters}, and {@code nodeCount} nodes with fresh keys; files the nodes write go to {@code dir}.
     */
    public static TaskDriver start(Path dir, int nodeCount, MeterRegistry meters) throws IOException {
        TaskDriver driver = new TaskDriver(dir, nodeCount);
        driver.connect(meters);
        return driver;
    }

    /** Stops the server and starts it again on the same data directory, with meters in {@code meters}. */
    public void restart(MeterRegistry meters) throws IOException {
        disconnect();
        events.clear();
        connect(meters);
    }

    private void connect(MeterRegistry meters) throws IOException {
        server = MurmurServer.start(config, meters);
        channel = ManagedChannelBuilder.forAddress("localhost", server.port()).usePlaintext()
                .maxInboundMessageSize(Wire.MAX_MESSAGE_BYTES).build();
        transfers = MurmurClient.of(channel);
        clients.clear();
        for (NodeKeys node : nodes) {
            clients.add(new RoundClient(channel, node));
        }
    }

    private void disconnect() {
        if (channel != null) {
            channel.shutdownNow();
        }
        if (server != null) {
            server.close();
        }
    }

    public MurmurServer server() {
        return server;
    }

    public Path dataDir() {
        return config.dataDir();
    }

    public MurmurClient transfers() {
        return transfers;
    }

    /** The admin's client: creates tasks. */
    public RoundClient creator() {
        return new RoundClient(channel, admin);
    }

    public RoundClient client(int node) {
        return clients.get(node);
    }

    public List<RoundClient> clients() {
        return List.copyOf(clients);
    }

    public NodeKeys keys(int node) {
        return nodes.get(node);
    }

    /**
     * Task parameters for {@code totalRounds} rounds over this driver's model: its schema, and an
     * initial model of zeros uploaded by the admin with PutModel.
     */
    public TaskParams.Builder params(int totalRounds) throws Exception {
        Path initial = writeModel("initial.safetensors", new float[DIM]);
        transfers.putModel(admin, initial);
        return TaskParams.newBuilder().setTotalRounds(totalRounds)
                .addModelSchema(TensorSpecs.of("w", TensorDtype.F32, new long[] {DIM}))
                .setInitialModelSha256(ByteString.copyFrom(sha256(initial)));
    }

    /**
     * Plays round {@code round} of {@code task} to its result: every node joins, proposers push
     * the update {@code behaviour} gives them, voters pull the candidate, measure it against the
     * truth (metric: minus the distance) and commit and reveal the score {@code behaviour} gives them.
     */
    public Round play(String task, long round, Behaviour behaviour) throws Exception {
        Iterator<RoundEvent> watch = events.computeIfAbsent(task, t -> creator().watch(t, OptionalLong.of(0)));
        RoundClient creator = creator();
        for (RoundClient client : clients) {
            client.join(task, round);
        }
        Map<Integer, Role> roles = new LinkedHashMap<>();
        for (int i = 0; i < clients.size(); i++) {
            roles.put(i, clients.get(i).assignment(task, round).getRole());
        }
        awaitPhase(creator, task, round, Phase.PHASE_CONTRIBUTE);
        Path global = dir.resolve("global-" + task + "-" + round + ".safetensors");
        transfers.pullModel(PullRequest.global(task), global);
        float[] start = readModel(global);
        for (Map.Entry<Integer, Role> role : roles.entrySet()) {
            if (role.getValue() == Role.ROLE_PROPOSER) {
                float[] update = behaviour.update(role.getKey(), round, start, truth);
                Path file = writeModel("update-" + task + "-" + round + "-" + role.getKey() + ".safetensors", update);
                transfers.pushUpdate(new UpdateUpload(nodes.get(role.getKey()), task, round, file, 100));
            }
        }
        awaitPhase(creator, task, round, Phase.PHASE_COMMIT);
        Path candidateFile = dir.resolve("candidate-" + task + "-" + round + ".safetensors");
        transfers.pullModel(PullRequest.candidate(task, round), candidateFile);
        double candidateMetric = -distance(readModel(candidateFile), truth);
        int honest = candidateMetric >= -distance(start, truth) ? 1 : -1;
        ByteString candidateSha = ByteString.copyFrom(sha256(candidateFile));
        Map<Integer, RoundClient.Ballot> ballots = new LinkedHashMap<>();
        for (Map.Entry<Integer, Role> role : roles.entrySet()) {
            if (role.getValue() == Role.ROLE_VOTER) {
                int score = behaviour.score(role.getKey(), round, honest);
                ballots.put(role.getKey(), clients.get(role.getKey()).commitVote(task, round, candidateSha, score,
                        candidateMetric));
            }
        }
        awaitPhase(creator, task, round, Phase.PHASE_REVEAL);
        for (Map.Entry<Integer, RoundClient.Ballot> ballot : ballots.entrySet()) {
            clients.get(ballot.getKey()).revealVote(ballot.getValue());
        }
        return new Round(round, roles, awaitRoundFinished(watch, round));
    }

    /** Writes {@code values} as this driver's one-tensor model to {@code name} in its directory. */
    public Path writeModel(String name, float[] values) throws IOException {
        Path file = dir.resolve(name);
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

    private static void awaitPhase(RoundClient client, String task, long round, Phase phase) throws Exception {
        long deadline = System.nanoTime() + PHASE_WAIT_NANOS;
        while (System.nanoTime() < deadline) {
            TaskInfo info = client.task(task);
            if (info.getCurrentRound() == round && info.getPhase() == phase) {
                return;
            }
            Thread.sleep(10);
        }
        throw new AssertionError("round " + round + " never reached " + phase + ": " + client.task(task));
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

    private static double distance(float[] a, float[] b) {
        double sum = 0;
        for (int i = 0; i < a.length; i++) {
            sum += (a[i] - b[i]) * (double) (a[i] - b[i]);
        }
        return Math.sqrt(sum);
    }

    public static byte[] sha256(Path file) throws IOException {
        try {
            return MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file));
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    /** Stakes {@code amount} for every node on {@code task}; returns each node's stake after. */
    public List<BigInteger> stakeAll(String task, BigInteger amount) throws Exception {
        List<BigInteger> stakes = new ArrayList<>();
        for (RoundClient client : clients) {
            stakes.add(client.stake(task, amount));
        }
        return stakes;
    }

    @Override
    public void close() {
        disconnect();
    }
}
