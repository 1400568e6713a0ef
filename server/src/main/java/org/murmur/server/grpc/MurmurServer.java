package org.murmur.server.grpc;

import io.grpc.InsecureServerCredentials;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.ServerCredentials;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.TlsServerCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.grpc.MetricCollectingServerInterceptor;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongSupplier;
import java.util.function.UnaryOperator;
import org.murmur.kernels.Backends;
import org.murmur.kernels.api.Backend;
import org.murmur.proto.Wire;
import org.murmur.server.metrics.MeasuredCandidateMaker;
import org.murmur.server.metrics.RoundMetrics;
import org.murmur.server.metrics.StoreMetrics;
import org.murmur.server.round.CandidateMaker;
import org.murmur.server.round.KernelCandidateMaker;
import org.murmur.server.round.RoundLog;
import org.murmur.server.round.TaskRegistry;
import org.murmur.server.store.DataDirectory;
import org.murmur.server.store.ModelStore;
import org.murmur.server.store.UpdateStore;

/**
 * A running gRPC front: the {@code murmur.v1.Murmur} service over the stores of one data directory.
 * Built from any {@link ServerBuilder} (in-process in tests, Netty for real sockets; see
 * {@link #nettyBuilder}), always with the maximum inbound message size of
 * {@link Wire#MAX_MESSAGE_BYTES}. {@link #close()} stops accepting calls, lets calls in progress
 * end for a short grace period, then cancels the rest (their uploads stay resumable).
 * Thread-safe.
 */
public final class MurmurServer implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(MurmurServer.class.getName());
    /**
     * Calls one connection may hold open at once: far above what a node needs, low enough that one
     * connection cannot open streams (headerless ones included, until their idle timeout) without bound.
     */
    static final int MAX_CALLS_PER_CONNECTION = 256;
    /** Gauge tagged with the backend's name. */
    public static final String BACKEND_INFO = "murmur.backend.info";
    /** How long {@link #close()} waits for calls in progress before cancelling them. */
    static final long GRACE_MILLIS = 5_000;

    private final Server server;
    private final ScheduledExecutorService timer;
    private final UpdateStore updates;
    private final ModelStore models;
    private final GrpcMetrics metrics;
    private final Optional<TaskRegistry> tasks;
    /** Released after the transport stops, last first: the registry, the backend, the executors. */
    private final List<AutoCloseable> resources;
    private final AtomicBoolean closed = new AtomicBoolean();

    private MurmurServer(Server server, ScheduledExecutorService timer, UpdateStore updates, ModelStore models,
                         GrpcMetrics metrics, Optional<TaskRegistry> tasks, List<AutoCloseable> resources) {
        this.server = server;
        this.timer = timer;
        this.updates = updates;
        this.models = models;
        this.metrics = metrics;
        this.tasks = tasks;
        this.resources = resources;
    }

    /**
     * Starts the whole server on a Netty socket: the stores and every task of
     * {@code config.dataDir()} (a directory that is not a Murmur data directory, or a corrupt
     * ledger in it, stops the start with its name; each ledger is replayed),
     * the {@code config.backend()} aggregation backend, and every RPC of murmur.proto.
     */
    public static MurmurServer start(ServerConfig config, MeterRegistry meters) throws IOException {
        return start(nettyBuilder(config), config, System::currentTimeMillis, meters);
    }

    /**
     * Starts the whole server on {@code builder} with {@code clock} as the time of every ledger
     * event and deadline. See {@link #start(ServerConfig, MeterRegistry)}.
     */
    public static MurmurServer start(ServerBuilder<?> builder, ServerConfig config, LongSupplier clock,
                                     MeterRegistry meters) throws IOException {
        List<AutoCloseable> resources = new ArrayList<>();
        try {
            DataDirectory.open(config.dataDir());
            UpdateStore updates = new UpdateStore(config.dataDir());
            ModelStore models = new ModelStore(config.dataDir());
            models.removeStaleTemporaries();
            Backend backend = Backends.open(config.backend());
            resources.add(backend);
            ScheduledThreadPoolExecutor timers = daemonScheduler("murmur-deadlines");
            resources.add(timers::shutdownNow);
            ExecutorService aggregations = Executors.newSingleThreadExecutor(daemon("murmur-aggregate"));
            resources.add(aggregations::shutdownNow);
            ExecutorService watchers = Executors.newCachedThreadPool(daemon("murmur-watch"));
            resources.add(watchers::shutdownNow);
            Path scratch = config.dataDir().toAbsolutePath().normalize();
            CandidateMaker candidates = new MeasuredCandidateMaker(
                    new KernelCandidateMaker(backend, updates, models, scratch), backend.name(), meters);
            TaskRegistry tasks = TaskRegistry.open(config.dataDir(), models, clock, timers, aggregations, candidates);
            resources.add(tasks);
            tasks.addListener(new RoundLog());
            new RoundMetrics(tasks).bindTo(meters);
            new StoreMetrics(config.dataDir()).bindTo(meters);
            Gauge.builder(BACKEND_INFO, () -> 1).tag("backend", backend.name())
                    .description("The aggregation backend in use (always 1)").register(meters);
            GrpcMetrics metrics = new GrpcMetrics(meters);
            return start(builder, config, updates, models, tasks, tasks, metrics,
                    Optional.of(new RoundService(tasks, config.admins(), metrics)),
                    Optional.of(new RoundWatchService(tasks, watchers)), Optional.of(tasks), resources);
        } catch (IOException | RuntimeException e) {
            closeAll(resources, e);
            throw e;
        }
    }

    /** Starts the server on a Netty socket at {@code config.port()}, with TLS if configured. */
    public static MurmurServer start(ServerConfig config, RoundGate gate, ModelCatalog catalog, MeterRegistry meters)
            throws IOException {
        return start(nettyBuilder(config), config, gate, catalog, meters);
    }

    /**
     * A Netty server builder for {@code config}: its port, its TLS settings (client certificates
     * required when a client CA is configured) and its flow-control window.
     */
    public static NettyServerBuilder nettyBuilder(ServerConfig config) throws IOException {
        ServerCredentials credentials = InsecureServerCredentials.create();
        if (config.tls().isPresent()) {
            ServerConfig.Tls tls = config.tls().get();
            TlsServerCredentials.Builder builder = TlsServerCredentials.newBuilder()
                    .keyManager(tls.certChain().toFile(), tls.privateKey().toFile());
            if (tls.clientCa().isPresent()) {
                builder.trustManager(tls.clientCa().get().toFile())
                        .clientAuth(TlsServerCredentials.ClientAuth.REQUIRE);
            }
            credentials = builder.build();
        }
        return NettyServerBuilder.forPort(config.port(), credentials)
                .flowControlWindow(config.flowControlWindowBytes())
                .maxConcurrentCallsPerConnection(MAX_CALLS_PER_CONNECTION);
    }

    /**
     * Opens the stores under {@code config.dataDir()} (created if missing), adds the Murmur service
     * to {@code builder} and starts it.
     *
     * @param gate    the round engine's answers for uploads
     * @param catalog which model files PullModel serves
     * @param meters  where the {@link GrpcMetrics} meters register
     */
    public static MurmurServer start(ServerBuilder<?> builder, ServerConfig config, RoundGate gate,
                                     ModelCatalog catalog, MeterRegistry meters) throws IOException {
        Objects.requireNonNull(builder, "builder");
        Objects.requireNonNull(config, "config");
        UpdateStore updates = new UpdateStore(config.dataDir());
        ModelStore models = new ModelStore(config.dataDir());
        models.removeStaleTemporaries();
        return start(builder, config, updates, models, gate, catalog, new GrpcMetrics(meters), Optional.empty(),
                Optional.empty(), Optional.empty(), new ArrayList<>());
    }

    private static MurmurServer start(ServerBuilder<?> builder, ServerConfig config, UpdateStore updates,
                                      ModelStore models, RoundGate gate, ModelCatalog catalog, GrpcMetrics metrics,
                                      Optional<RoundService> rounds, Optional<RoundWatchService> watches,
                                      Optional<TaskRegistry> tasks, List<AutoCloseable> resources)
            throws IOException {
        ScheduledThreadPoolExecutor timer = daemonScheduler("murmur-idle-deadlines");
        try {
            UploadService uploads = new UploadService(config, updates, models, gate,
                    new NonceRegistry(config.nonceTtl(), config.noncesPerNode()), metrics, timer);
            ModelService downloads = new ModelService(catalog, models, metrics, timer, config.idleTimeout());
            Server server = builder
                    .maxInboundMessageSize(Wire.MAX_MESSAGE_BYTES)
                    .addService(ServerInterceptors.intercept(new MurmurService(uploads, downloads, rounds, watches),
                            rpcMetrics(metrics.registry())))
                    .build()
                    .start();
            return new MurmurServer(server, timer, updates, models, metrics, tasks, resources);
        } catch (IOException | RuntimeException e) {
            timer.shutdownNow();
            throw e;
        }
    }

    /**
     * Micrometer's gRPC meters (requests, responses, and processing time by method and status
     * code), the processing time as a histogram from 1 ms to 10 minutes so that dashboards can
     * show latency percentiles by method.
     */
    private static MetricCollectingServerInterceptor rpcMetrics(MeterRegistry meters) {
        return new MetricCollectingServerInterceptor(meters, UnaryOperator.identity(),
                timer -> timer.publishPercentileHistogram().minimumExpectedValue(Duration.ofMillis(1))
                        .maximumExpectedValue(Duration.ofMinutes(10)),
                Status.Code.OK);
    }

    private static ScheduledThreadPoolExecutor daemonScheduler(String name) {
        ScheduledThreadPoolExecutor scheduler = new ScheduledThreadPoolExecutor(1, daemon(name));
        scheduler.setRemoveOnCancelPolicy(true);
        return scheduler;
    }

    private static ThreadFactory daemon(String name) {
        return runnable -> {
            Thread thread = Executors.defaultThreadFactory().newThread(runnable);
            thread.setName(name);
            thread.setDaemon(true);
            return thread;
        };
    }

    private static void closeAll(List<AutoCloseable> resources, Throwable failure) {
        for (int i = resources.size() - 1; i >= 0; i--) {
            try {
                resources.get(i).close();
            } catch (Exception e) {
                if (failure != null) {
                    failure.addSuppressed(e);
                } else {
                    LOG.log(System.Logger.Level.WARNING, "closing " + resources.get(i) + " failed", e);
                }
            }
        }
    }

    /** The port listened on (the one picked when configured as 0); -1 for an in-process server. */
    public int port() {
        return server.getPort();
    }

    public UpdateStore updateStore() {
        return updates;
    }

    public ModelStore modelStore() {
        return models;
    }

    public GrpcMetrics metrics() {
        return metrics;
    }

    /** The tasks, when this is a whole server (not an upload-only front over a hand-driven gate). */
    public Optional<TaskRegistry> tasks() {
        return tasks;
    }

    /** Stops the server with a grace period of {@link #GRACE_MILLIS}; see {@link #close(Duration)}. */
    @Override
    public void close() {
        close(Duration.ofMillis(GRACE_MILLIS));
    }

    /**
     * Stops the server: no new calls; calls in progress get {@code grace} to end, then are
     * cancelled (an upload cancelled this way stays resumable). Later calls do nothing. If
     * interrupted, cancels at once and keeps the thread's interrupt status.
     */
    public void close(Duration grace) {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        server.shutdown();
        try {
            if (!server.awaitTermination(grace.toNanos(), TimeUnit.NANOSECONDS)) {
                server.shutdownNow();
                server.awaitTermination(GRACE_MILLIS, TimeUnit.MILLISECONDS);
            }
        } catch (InterruptedException e) {
            server.shutdownNow();
            Thread.currentThread().interrupt();
        } finally {
            timer.shutdownNow();
            closeAll(resources, null);
        }
    }
}
