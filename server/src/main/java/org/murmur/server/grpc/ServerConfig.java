package org.murmur.server.grpc;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.murmur.proto.Wire;
import org.murmur.proto.identity.NodeId;

/**
 * The settings of the gRPC front, each paired with its name (as the command line and a config
 * file will spell it) and its default. The canonical constructor validates every setting once and
 * fails with an {@link InvalidConfigException} naming the first bad one; a constructed config is
 * always usable. Immutable.
 *
 * @param port                  TCP port to listen on; 0 picks a free one
 * @param dataDir               the server's data directory (stores live under it)
 * @param maxStreamsPerNode     upload streams one node may hold open at once
 * @param idleTimeout           an upload stream idle this long while the server waits for it is
 *                              cancelled (DEADLINE_EXCEEDED); its bytes stay resumable
 * @param maxUpdateBytes        largest update file accepted
 * @param maxHeaderBytes        largest safetensors header (JSON) accepted in an update
 * @param syncIntervalBytes     an upload is fsynced after at most this many new bytes
 * @param flowControlWindowBytes HTTP/2 flow-control window of the Netty transport
 * @param nonceTtl              how long an accepted nonce is remembered; must outlast a phase window
 * @param noncesPerNode         most nonces remembered per node (oldest forgotten first)
 * @param tls                   TLS settings; empty for plaintext
 * @param admins                node ids allowed to create tasks and upload models
 * @param backend               where candidates are aggregated: auto, cpu or cuda
 */
public record ServerConfig(
        int port,
        Path dataDir,
        int maxStreamsPerNode,
        Duration idleTimeout,
        long maxUpdateBytes,
        long maxHeaderBytes,
        long syncIntervalBytes,
        int flowControlWindowBytes,
        Duration nonceTtl,
        int noncesPerNode,
        Optional<Tls> tls,
        Set<NodeId> admins,
        String backend) {

    public static final String PORT = "port";
    public static final int DEFAULT_PORT = 7443;
    public static final String DATA_DIR = "data-dir";
    public static final String MAX_STREAMS_PER_NODE = "max-streams-per-node";
    public static final int DEFAULT_MAX_STREAMS_PER_NODE = 2;
    public static final String IDLE_TIMEOUT = "idle-timeout";
    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofSeconds(60);
    public static final String MAX_UPDATE_BYTES = "max-update-bytes";
    public static final long DEFAULT_MAX_UPDATE_BYTES = 64L << 30;
    public static final String MAX_HEADER_BYTES = "max-header-bytes";
    public static final long DEFAULT_MAX_HEADER_BYTES = 16L << 20;
    /** The safetensors readers' own limit on a header; no setting may exceed it. */
    public static final long HEADER_BYTES_LIMIT = 100_000_000L;
    public static final String SYNC_INTERVAL_BYTES = "sync-interval-bytes";
    public static final long DEFAULT_SYNC_INTERVAL_BYTES = 16L << 20;
    public static final String FLOW_CONTROL_WINDOW_BYTES = "flow-control-window-bytes";
    public static final int DEFAULT_FLOW_CONTROL_WINDOW_BYTES = 4 << 20;
    public static final String NONCE_TTL = "nonce-ttl";
    public static final Duration DEFAULT_NONCE_TTL = Duration.ofHours(24);
    public static final String NONCES_PER_NODE = "nonces-per-node";
    public static final int DEFAULT_NONCES_PER_NODE = 4096;
    public static final String ADMIN = "admin";
    public static final String BACKEND = "backend";
    public static final String DEFAULT_BACKEND = "auto";
    public static final String TLS_CERT = "tls-cert";
    public static final String TLS_KEY = "tls-key";
    public static final String TLS_CLIENT_CA = "tls-client-ca";

    /**
     * TLS for the listening socket.
     *
     * @param certChain         PEM certificate chain of the server
     * @param privateKey        PEM PKCS#8 private key of the server
     * @param clientCa          PEM certificates trusted to sign client certificates; when present,
     *                          every client must present a certificate signed by one of them
     */
    public record Tls(Path certChain, Path privateKey, Optional<Path> clientCa) {
        public Tls {
            requireReadable(TLS_CERT, certChain);
            requireReadable(TLS_KEY, privateKey);
            Objects.requireNonNull(clientCa, "clientCa");
            clientCa.ifPresent(ca -> requireReadable(TLS_CLIENT_CA, ca));
        }

        private static void requireReadable(String setting, Path file) {
            if (file == null) {
                throw new InvalidConfigException(setting, "is required when TLS is enabled");
            }
            if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
                throw new InvalidConfigException(setting, file + " is not a readable file");
            }
        }
    }

    public ServerConfig {
        if (port < 0 || port > 65_535) {
            throw new InvalidConfigException(PORT, "must be 0 (any free port) to 65535, got " + port);
        }
        if (dataDir == null) {
            throw new InvalidConfigException(DATA_DIR, "is required");
        }
        if (Files.exists(dataDir) && !Files.isDirectory(dataDir)) {
            throw new InvalidConfigException(DATA_DIR, dataDir + " exists and is not a directory");
        }
        if (maxStreamsPerNode < 1) {
            throw new InvalidConfigException(MAX_STREAMS_PER_NODE, "must be at least 1, got " + maxStreamsPerNode);
        }
        requirePositive(IDLE_TIMEOUT, idleTimeout);
        if (maxUpdateBytes < 1) {
            throw new InvalidConfigException(MAX_UPDATE_BYTES, "must be at least 1 byte, got " + maxUpdateBytes);
        }
        if (maxHeaderBytes < 2 || maxHeaderBytes > HEADER_BYTES_LIMIT) {
            throw new InvalidConfigException(MAX_HEADER_BYTES, "must be 2 to " + HEADER_BYTES_LIMIT
                    + " bytes (the safetensors readers' limit), got " + maxHeaderBytes);
        }
        if (syncIntervalBytes < Wire.CHUNK_BYTES) {
            throw new InvalidConfigException(SYNC_INTERVAL_BYTES, "must be at least one chunk ("
                    + Wire.CHUNK_BYTES + " bytes), got " + syncIntervalBytes);
        }
        if (flowControlWindowBytes < Wire.CHUNK_BYTES || flowControlWindowBytes > 64 << 20) {
            throw new InvalidConfigException(FLOW_CONTROL_WINDOW_BYTES, "must be " + Wire.CHUNK_BYTES + " to "
                    + (64 << 20) + " bytes, got " + flowControlWindowBytes);
        }
        requirePositive(NONCE_TTL, nonceTtl);
        if (noncesPerNode < 1) {
            throw new InvalidConfigException(NONCES_PER_NODE, "must be at least 1, got " + noncesPerNode);
        }
        Objects.requireNonNull(tls, "tls");
        admins = Set.copyOf(Objects.requireNonNull(admins, "admins"));
        if (!Set.of("auto", "cpu", "cuda").contains(backend)) {
            throw new InvalidConfigException(BACKEND, "must be auto, cpu or cuda, got " + backend);
        }
    }

    private static void requirePositive(String setting, Duration value) {
        if (value == null || value.isNegative() || value.isZero()) {
            throw new InvalidConfigException(setting, "must be a positive duration, got " + value);
        }
    }

    /** Every setting at its default, with {@code dataDir}. */
    public static ServerConfig defaults(Path dataDir) {
        return builder(dataDir).build();
    }

    public static Builder builder(Path dataDir) {
        return new Builder(dataDir);
    }

    /** A copy with these settings as a builder. */
    public Builder toBuilder() {
        Builder b = new Builder(dataDir);
        b.port = port;
        b.maxStreamsPerNode = maxStreamsPerNode;
        b.idleTimeout = idleTimeout;
        b.maxUpdateBytes = maxUpdateBytes;
        b.maxHeaderBytes = maxHeaderBytes;
        b.syncIntervalBytes = syncIntervalBytes;
        b.flowControlWindowBytes = flowControlWindowBytes;
        b.nonceTtl = nonceTtl;
        b.noncesPerNode = noncesPerNode;
        b.tls = tls.orElse(null);
        b.admins = admins;
        b.backend = backend;
        return b;
    }

    /** Collects settings; {@link #build()} validates them all at once. Not thread-safe. */
    public static final class Builder {
        private final Path dataDir;
        private int port = DEFAULT_PORT;
        private int maxStreamsPerNode = DEFAULT_MAX_STREAMS_PER_NODE;
        private Duration idleTimeout = DEFAULT_IDLE_TIMEOUT;
        private long maxUpdateBytes = DEFAULT_MAX_UPDATE_BYTES;
        private long maxHeaderBytes = DEFAULT_MAX_HEADER_BYTES;
        private long syncIntervalBytes = DEFAULT_SYNC_INTERVAL_BYTES;
        private int flowControlWindowBytes = DEFAULT_FLOW_CONTROL_WINDOW_BYTES;
        private Duration nonceTtl = DEFAULT_NONCE_TTL;
        private int noncesPerNode = DEFAULT_NONCES_PER_NODE;
        private Tls tls;
        private Set<NodeId> admins = Set.of();
        private String backend = DEFAULT_BACKEND;

        private Builder(Path dataDir) {
            this.dataDir = dataDir;
        }

        public Builder port(int value) {
            port = value;
            return this;
        }

        public Builder maxStreamsPerNode(int value) {
            maxStreamsPerNode = value;
            return this;
        }

        public Builder idleTimeout(Duration value) {
            idleTimeout = value;
            return this;
        }

        public Builder maxUpdateBytes(long value) {
            maxUpdateBytes = value;
            return this;
        }

        public Builder maxHeaderBytes(long value) {
            maxHeaderBytes = value;
            return this;
        }

        public Builder syncIntervalBytes(long value) {
            syncIntervalBytes = value;
            return this;
        }

        public Builder flowControlWindowBytes(int value) {
            flowControlWindowBytes = value;
            return this;
        }

        public Builder nonceTtl(Duration value) {
            nonceTtl = value;
            return this;
        }

        public Builder noncesPerNode(int value) {
            noncesPerNode = value;
            return this;
        }

        /** TLS settings, or null for plaintext. */
        public Builder tls(Tls value) {
            tls = value;
            return this;
        }

        /** Node ids allowed to create tasks and upload models. */
        public Builder admins(Set<NodeId> value) {
            admins = value;
            return this;
        }

        public Builder backend(String value) {
            backend = value;
            return this;
        }

        public ServerConfig build() {
            return new ServerConfig(port, dataDir, maxStreamsPerNode, idleTimeout, maxUpdateBytes, maxHeaderBytes,
                    syncIntervalBytes, flowControlWindowBytes, nonceTtl, noncesPerNode, Optional.ofNullable(tls), admins,
                    backend);
        }
    }
}
