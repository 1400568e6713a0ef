package org.murmur.server.round;

import com.google.protobuf.ByteString;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.PublicKey;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Consumer;
import java.util.function.LongConsumer;
import java.util.function.LongSupplier;
import java.util.regex.Pattern;
import org.murmur.proto.identity.Ed25519;
import org.murmur.proto.identity.NodeId;
import org.murmur.proto.ledger.v1.LedgerEvent;
import org.murmur.proto.ledger.v1.TaskCreated;
import org.murmur.proto.safetensors.SafetensorsException;
import org.murmur.proto.safetensors.SafetensorsFile;
import org.murmur.proto.safetensors.TensorEntry;
import org.murmur.proto.v1.RefusalReason;
import org.murmur.proto.v1.TaskParams;
import org.murmur.server.economics.InvalidParameterException;
import org.murmur.server.economics.TaskRules;
import org.murmur.server.grpc.Contribution;
import org.murmur.server.grpc.ModelCatalog;
import org.murmur.server.grpc.Refusal;
import org.murmur.server.grpc.RoundGate;
import org.murmur.server.grpc.UploadVerdict;
import org.murmur.server.ledger.LedgerRecord;
import org.murmur.server.model.DenseClassifierShape;
import org.murmur.server.model.ModelSchema;
import org.murmur.server.store.Durable;
import org.murmur.server.store.ModelStore;

/**
 * Every task of a data directory, each run by its {@link TaskEngine} over its own ledger at
 * {@code <data>/tasks/<task id>/ledger.mlg}. Opening the registry replays every ledger (refusing to
 * start on a corrupt one, naming it). Serves the upload path as its {@link RoundGate} and the
 * download path as its {@link ModelCatalog}, and keeps the node keys registered by every task's
 * first Staked events. Thread-safe.
 */
public final class TaskRegistry implements RoundGate, ModelCatalog, AutoCloseable {
    /** Task ids as murmur.proto allows them: they name a directory. */
    private static final Pattern TASK_ID = Pattern.compile("[a-z0-9_-][a-z0-9._-]{0,63}");
    private static final HexFormat HEX = HexFormat.of();
    static final String LEDGER_FILE = "ledger.mlg";
    /** Prefix of a task directory being created; no task id starts with a dot. */
    private static final String CREATING = ".creating-";
    private static final System.Logger LOG = System.getLogger(TaskRegistry.class.getName());

    private final Path tasksDir;
    private final ModelStore models;
    private final LongSupplier clock;
    private final ScheduledExecutorService timers;
    private final Executor aggregations;
    private final CandidateMaker candidates;
    private final Map<String, TaskEngine> engines = new ConcurrentHashMap<>();
    private final Map<NodeId, PublicKey> keys = new ConcurrentHashMap<>();
    private final List<TaskEngine.Listener> listeners = new CopyOnWriteArrayList<>();
    private volatile LongConsumer appendTimer = nanos -> { };

    private TaskRegistry(Path tasksDir, ModelStore models, LongSupplier clock, ScheduledExecutorService timers,
                         Executor aggregations, CandidateMaker candidates) {
        this.tasksDir = tasksDir;
        this.models = models;
        this.clock = clock;
        this.timers = timers;
        this.aggregations = aggregations;
        this.candidates = candidates;
    }

    /** Opens (creating if needed) {@code <dataDir>/tasks} and every task in it. */
    public static TaskRegistry open(Path dataDir, ModelStore models, LongSupplier clock,
                                    ScheduledExecutorService timers, Executor aggregations,
                                    CandidateMaker candidates) throws IOException {
        Path tasksDir = dataDir.toAbsolutePath().normalize().resolve("tasks");
        Durable.createDirectories(dataDir.toAbsolutePath().normalize(), tasksDir);
        TaskRegistry registry = new TaskRegistry(tasksDir, models, clock, timers, aggregations, candidates);
        List<Path> dirs = new ArrayList<>();
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(tasksDir)) {
            stream.forEach(dirs::add);
        }
        dirs.sort(null);
        try {
            for (Path dir : dirs) {
                String taskId = dir.getFileName().toString();
                if (taskId.startsWith(CREATING)) {
                    LOG.log(System.Logger.Level.WARNING, "removing " + dir + ": a task creation that a crash"
                            + " interrupted before it was acknowledged");
                    deleteTree(dir);
                    continue;
                }
                if (!TASK_ID.matcher(taskId).matches() || !Files.isDirectory(dir)) {
                    throw new IOException(dir + " is not a task directory of a Murmur data directory (remove it,"
                            + " or point --data-dir elsewhere)");
                }
                registry.adopt(TaskEngine.open(dir.resolve(LEDGER_FILE), taskId, clock, timers, aggregations,
                        candidates));
            }
        } catch (IOException | RuntimeException e) {
            registry.close();
            throw e;
        }
        return registry;
    }

    /** Ledger of a task in a data directory. */
    public static Path ledgerPath(Path dataDir, String taskId) {
        return dataDir.toAbsolutePath().normalize().resolve("tasks").resolve(taskId).resolve(LEDGER_FILE);
    }

    /**
     * Creates a task for the admin {@code creator}. Refusals: INVALID_PARAMETER (a bad id or
     * parameter, named), TASK_EXISTS, UNKNOWN_MODEL (initial model not in the store), INVALID_FILE
     * (initial model not of the schema).
     */
    public synchronized TaskEngine create(String taskId, TaskParams params, NodeId creator, PublicKey creatorKey,
                                          ByteString nonce) throws Refusal, IOException {
        if (!TASK_ID.matcher(taskId).matches()) {
            throw new Refusal(RefusalReason.INVALID_PARAMETER, "task_id must be 1 to 64 characters of [a-z0-9._-],"
                    + " not starting with a dot, got '" + taskId + "'");
        }
        TaskRules rules;
        try {
            rules = TaskRules.fromProto(params);
        } catch (InvalidParameterException e) {
            throw new Refusal(RefusalReason.INVALID_PARAMETER, "params." + e.getMessage());
        }
        if (engines.containsKey(taskId) || Files.exists(tasksDir.resolve(taskId))) {
            throw new Refusal(RefusalReason.TASK_EXISTS, "task " + taskId + " already exists: choose another id");
        }
        checkInitialModel(rules);
        checkValidationSet(rules);
        TaskCreated created = TaskCreated.newBuilder().setParams(rules.toProto()).setCreatorId(creator.toString())
                .setCreatorPublicKey(ByteString.copyFrom(Ed25519.rawPublicKey(creatorKey))).setNonce(nonce).build();
        // The task appears under its id only once its first event is durable: a crash before that
        // leaves a staging directory, removed at the next start, never a task without a ledger.
        Path staging = tasksDir.resolve(CREATING + taskId);
        deleteTree(staging);
        Durable.createDirectories(tasksDir, staging);
        TaskEngine.create(staging.resolve(LEDGER_FILE), taskId, created, clock, timers, aggregations, candidates)
                .close();
        Path dir = tasksDir.resolve(taskId);
        Files.move(staging, dir, StandardCopyOption.ATOMIC_MOVE);
        Durable.syncDirectory(tasksDir);
        TaskEngine engine = TaskEngine.open(dir.resolve(LEDGER_FILE), taskId, clock, timers, aggregations, candidates);
        adopt(engine);
        return engine;
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (var paths = Files.walk(dir)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(path);
            }
        }
    }

    private void checkValidationSet(TaskRules rules) throws Refusal {
        if (rules.validationSet().isEmpty()) {
            return;
        }
        String hex = HEX.formatHex(rules.validationSet().get().toByteArray());
        Path file = models.find(hex).orElseThrow(() -> new Refusal(RefusalReason.UNKNOWN_MODEL,
                "the validation set " + hex + " is not in the server's model store: upload it with PutModel first"));
        int inputs = DenseClassifierShape.of(rules.schema()).shape().orElseThrow().inputs();
        try (SafetensorsFile set = SafetensorsFile.open(file)) {
            List<TensorEntry> tensors = set.tensors();
            TensorEntry x = tensors.stream().filter(t -> t.name().equals("x")).findFirst().orElse(null);
            TensorEntry y = tensors.stream().filter(t -> t.name().equals("y")).findFirst().orElse(null);
            boolean fits = tensors.size() == 2 && x != null && y != null && x.shape().length == 2
                    && x.shape()[1] == inputs && y.shape().length == 1 && y.shape()[0] == x.shape()[0];
            if (!fits) {
                throw new Refusal(RefusalReason.INVALID_FILE, "the validation set " + hex + " must hold exactly"
                        + " \"x\" [N, " + inputs + "] and \"y\" [N] (class indices)");
            }
        } catch (SafetensorsException e) {
            throw new Refusal(RefusalReason.INVALID_FILE, "the validation set " + hex + " is not a valid safetensors"
                    + " file: " + e.getMessage());
        }
    }

    private void checkInitialModel(TaskRules rules) throws Refusal, IOException {
        String hex = HEX.formatHex(rules.initialModelSha256().toByteArray());
        Path file = models.find(hex).orElseThrow(() -> new Refusal(RefusalReason.UNKNOWN_MODEL,
                "the initial model " + hex + " is not in the server's model store: upload it with PutModel first"));
        try (SafetensorsFile model = SafetensorsFile.open(file)) {
            Optional<String> difference = ModelSchema.ofEntries(model.tensors())
                    .firstDifference(rules.schema(), "the initial model", "params.model_schema");
            if (difference.isPresent()) {
                throw new Refusal(RefusalReason.INVALID_FILE, difference.get());
            }
        } catch (SafetensorsException e) {
            throw new Refusal(RefusalReason.INVALID_FILE, "the initial model " + hex + " is not a valid safetensors"
                    + " file: " + e.getMessage());
        }
    }

    private synchronized void adopt(TaskEngine engine) {
        engine.read(state -> {
            registerKeys(state);
            return null;
        });
        engine.addListener(this::noteKeys);
        listeners.forEach(engine::addListener);
        engine.onAppend(appendTimer);
        engines.put(engine.taskId(), engine);
    }

    /** Adds {@code listener} to every task's engine, now and created later (metrics, event logs). */
    public synchronized void addListener(TaskEngine.Listener listener) {
        listeners.add(listener);
        engines.values().forEach(engine -> engine.addListener(listener));
    }

    /** Times every ledger append of every task, now and created later. */
    public synchronized void onAppend(LongConsumer timer) {
        appendTimer = timer;
        engines.values().forEach(engine -> engine.onAppend(timer));
    }

    /** Runs {@code reader} on one task's state under its engine's lock; nothing when the task is unknown. */
    public void forTask(String taskId, Consumer<TaskState> reader) {
        TaskEngine engine = engines.get(taskId);
        if (engine != null) {
            engine.read(state -> {
                reader.accept(state);
                return null;
            });
        }
    }

    /** Runs {@code reader} on every task's state in turn, each under its engine's lock. */
    public void forEachState(Consumer<TaskState> reader) {
        for (TaskEngine engine : engines.values()) {
            engine.read(state -> {
                reader.accept(state);
                return null;
            });
        }
    }

    private void registerKeys(TaskState state) {
        for (String node : state.stakes().keySet()) {
            state.publicKey(node).ifPresent(raw -> keys.putIfAbsent(NodeId.parse(node),
                    Ed25519.publicKey(raw.toByteArray())));
        }
    }

    private void noteKeys(LedgerRecord record, LedgerEvent event) {
        if (event.hasStaked() && !event.getStaked().getPublicKey().isEmpty()) {
            keys.putIfAbsent(NodeId.parse(event.getStaked().getNodeId()),
                    Ed25519.publicKey(event.getStaked().getPublicKey().toByteArray()));
        }
    }

    /** The task's engine, or a NOT_FOUND refusal. */
    public TaskEngine task(String taskId) throws Refusal {
        TaskEngine engine = engines.get(taskId);
        if (engine == null) {
            throw new Refusal(RefusalReason.UNKNOWN_TASK, "task '" + taskId + "' does not exist on this server");
        }
        return engine;
    }

    public List<String> taskIds() {
        List<String> ids = new ArrayList<>(engines.keySet());
        ids.sort(null);
        return ids;
    }

    // ------------------------------------------------------------------------------------------
    // RoundGate

    @Override
    public Optional<PublicKey> publicKey(NodeId node) {
        return Optional.ofNullable(keys.get(node));
    }

    @Override
    public Optional<ModelSchema> schema(String taskId) {
        TaskEngine engine = engines.get(taskId);
        return engine == null ? Optional.empty() : Optional.of(engine.read(s -> s.rules().schema()));
    }

    @Override
    public UploadVerdict checkUpload(String taskId, long round, NodeId node) {
        TaskEngine engine = engines.get(taskId);
        if (engine == null) {
            return UploadVerdict.UNKNOWN_TASK;
        }
        try {
            engine.checkUpload(node.toString(), round);
            return UploadVerdict.ALLOWED;
        } catch (Refusal refusal) {
            return switch (refusal.reason()) {
                case UNKNOWN_ROUND -> UploadVerdict.UNKNOWN_ROUND;
                case WRONG_PHASE -> UploadVerdict.NOT_ACCEPTING;
                case DEADLINE_PASSED -> UploadVerdict.DEADLINE_PASSED;
                case NODE_REMOVED -> UploadVerdict.NODE_REMOVED;
                case NOT_STAKED -> UploadVerdict.NOT_STAKED;
                case NOT_PROPOSER -> UploadVerdict.NOT_PROPOSER;
                // the update store answers a duplicate with its own, more precise refusal
                default -> UploadVerdict.ALLOWED;
            };
        } catch (IOException e) {
            return UploadVerdict.DEADLINE_PASSED;
        }
    }

    @Override
    public void contributed(Contribution c) throws Refusal, IOException {
        task(c.key().taskId()).contributed(c.key().nodeId(), c.key().round(), ByteString.copyFrom(c.sha256()),
                c.numSamples(), c.bytes(), ByteString.copyFrom(c.nonce()));
    }

    // ------------------------------------------------------------------------------------------
    // ModelCatalog

    @Override
    public boolean hasTask(String taskId) {
        return engines.containsKey(taskId);
    }

    @Override
    public Optional<Entry> global(String taskId, OptionalLong round) {
        TaskEngine engine = engines.get(taskId);
        if (engine == null) {
            return Optional.empty();
        }
        return engine.read(state -> {
            if (round.isEmpty()) {
                ByteString current = state.globalModel();
                boolean initial = current.equals(state.rules().initialModelSha256());
                long r = initial ? 0 : state.lastAcceptedRound();
                return Optional.of(new Entry(HEX.formatHex(current.toByteArray()), r, initial));
            }
            long r = round.getAsLong();
            if (!state.roundOver(r)) {
                return Optional.empty();
            }
            OptionalLong accepted = state.acceptedRoundAtOrBefore(r);
            ByteString sha = state.globalModelAfter(r);
            return Optional.of(new Entry(HEX.formatHex(sha.toByteArray()), accepted.orElse(0),
                    accepted.isEmpty()));
        });
    }

    @Override
    public Optional<Entry> candidate(String taskId, long round) {
        TaskEngine engine = engines.get(taskId);
        if (engine == null) {
            return Optional.empty();
        }
        return engine.read(state -> state.candidateOf(round)
                .map(sha -> new Entry(HEX.formatHex(sha.toByteArray()), round, false)));
    }

    @Override
    public void close() throws IOException {
        IOException first = null;
        for (TaskEngine engine : engines.values()) {
            try {
                engine.close();
            } catch (IOException e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }
}
