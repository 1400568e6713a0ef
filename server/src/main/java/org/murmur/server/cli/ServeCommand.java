package org.murmur.server.cli;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.murmur.proto.identity.KeyFileException;
import org.murmur.proto.identity.NodeId;
import org.murmur.proto.identity.NodeKeys;
import org.murmur.server.grpc.InvalidConfigException;
import org.murmur.server.grpc.MurmurServer;
import org.murmur.server.grpc.ServerConfig;
import org.murmur.server.metrics.MetricsEndpoint;
import org.murmur.server.metrics.ProcessMetrics;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code murmur serve}: runs the server on a data directory until SIGINT or SIGTERM. Every setting
 * is validated once, at start, and a bad one stops the start with a message naming it; a corrupt
 * or foreign data directory stops it with a message naming the file. On shutdown, calls in progress
 * get a grace period and interrupted uploads stay resumable.
 */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Run the Murmur server: nodes stake, join rounds, push updates and vote over gRPC.")
public final class ServeCommand implements Callable<Integer> {
    @Option(names = "--port", defaultValue = "" + ServerConfig.DEFAULT_PORT,
            description = "TCP port to listen on; 0 picks a free one (default ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--data-dir", defaultValue = "murmur-data",
            description = "Data directory: ledgers, updates and models (default ${DEFAULT-VALUE}).")
    Path dataDir;

    @Option(names = "--backend", defaultValue = ServerConfig.DEFAULT_BACKEND,
            description = "Aggregation backend: auto, cpu or cuda (default ${DEFAULT-VALUE}).")
    String backend;

    @Option(names = "--admin", paramLabel = "ID|KEYFILE",
            description = "An admin (may create tasks and upload models): a node id (40 hex digits) or a node key"
                    + " file. Repeatable.")
    List<String> admins = new ArrayList<>();

    @Option(names = "--max-streams-per-node", defaultValue = "" + ServerConfig.DEFAULT_MAX_STREAMS_PER_NODE,
            description = "Upload streams one node may hold open at once (default ${DEFAULT-VALUE}).")
    int maxStreamsPerNode;

    @Option(names = "--idle-timeout", paramLabel = "SECONDS", defaultValue = "60",
            description = "An upload stream idle this long is cut; its bytes stay resumable (default ${DEFAULT-VALUE}).")
    long idleTimeoutSeconds;

    @Option(names = "--max-update-bytes", defaultValue = "" + ServerConfig.DEFAULT_MAX_UPDATE_BYTES,
            description = "Largest update file accepted, bytes (default ${DEFAULT-VALUE}).")
    long maxUpdateBytes;

    @Option(names = "--metrics-port", defaultValue = "9464",
            description = "Port of the Prometheus endpoint GET /metrics; 0 picks a free one (default ${DEFAULT-VALUE}).")
    int metricsPort;

    @Option(names = "--tls-cert", description = "PEM certificate chain: serve TLS (with --tls-key).")
    Path tlsCert;

    @Option(names = "--tls-key", description = "PEM private key of --tls-cert.")
    Path tlsKey;

    @Option(names = "--tls-client-ca", description = "PEM CA: require client certificates it signed.")
    Path tlsClientCa;

    @Spec
    CommandSpec command;

    @Override
    public Integer call() throws Exception {
        ServerConfig config = config();
        if (metricsPort < 0 || metricsPort > 65_535) {
            throw new InvalidConfigException("metrics-port", "must be 0 (any free port) to 65535, got " + metricsPort);
        }
        CountDownLatch stopped = new CountDownLatch(1);
        PrometheusMeterRegistry meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        try (ProcessMetrics process = new ProcessMetrics(meters);
             MurmurServer server = MurmurServer.start(config, meters);
             MetricsEndpoint endpoint = MetricsEndpoint.start(metricsPort, meters)) {
            Thread hook = new Thread(() -> {
                server.close();
                stopped.countDown();
            }, "murmur-shutdown");
            Runtime.getRuntime().addShutdownHook(hook);
            int tasks = server.tasks().map(t -> t.taskIds().size()).orElse(0);
            command.commandLine().getOut().printf("murmur: serving on port %d, data dir %s, %d task(s), %d admin(s),"
                    + " metrics on http://localhost:%d/metrics%n", server.port(),
                    config.dataDir().toAbsolutePath().normalize(), tasks, config.admins().size(), endpoint.port());
            command.commandLine().getOut().flush();
            stopped.await();
        }
        return 0;
    }

    private ServerConfig config() throws KeyFileException {
        Set<NodeId> adminIds = new LinkedHashSet<>();
        for (String admin : admins) {
            adminIds.add(adminId(admin));
        }
        Optional<ServerConfig.Tls> tls = Optional.empty();
        if (tlsCert != null || tlsKey != null) {
            if (tlsCert == null || tlsKey == null) {
                throw new InvalidConfigException(tlsCert == null ? ServerConfig.TLS_CERT : ServerConfig.TLS_KEY,
                        "is required with --" + (tlsCert == null ? ServerConfig.TLS_KEY : ServerConfig.TLS_CERT));
            }
            tls = Optional.of(new ServerConfig.Tls(tlsCert, tlsKey, Optional.ofNullable(tlsClientCa)));
        } else if (tlsClientCa != null) {
            throw new InvalidConfigException(ServerConfig.TLS_CLIENT_CA, "needs --tls-cert and --tls-key");
        }
        if (idleTimeoutSeconds < 1) {
            throw new InvalidConfigException(ServerConfig.IDLE_TIMEOUT, "must be at least 1 second, got "
                    + idleTimeoutSeconds);
        }
        return ServerConfig.builder(dataDir).port(port).backend(backend).admins(adminIds)
                .maxStreamsPerNode(maxStreamsPerNode).idleTimeout(Duration.ofSeconds(idleTimeoutSeconds))
                .maxUpdateBytes(maxUpdateBytes).tls(tls.orElse(null)).build();
    }

    private static NodeId adminId(String admin) throws KeyFileException {
        Path file = Path.of(admin);
        if (Files.isRegularFile(file)) {
            return NodeKeys.load(file).nodeId();
        }
        try {
            return NodeId.parse(admin);
        } catch (IllegalArgumentException e) {
            throw new InvalidConfigException(ServerConfig.ADMIN, "'" + admin + "' is neither a node id (40 hex"
                    + " digits) nor a node key file");
        }
    }
}
