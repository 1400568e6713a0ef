package org.murmur.bench.demo;

import io.grpc.InsecureServerCredentials;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import org.murmur.proto.Wire;
import org.murmur.proto.identity.NodeKeys;
import org.murmur.server.grpc.MurmurServer;
import org.murmur.server.grpc.ServerConfig;
import org.murmur.server.metrics.MetricsEndpoint;
import org.murmur.server.metrics.ProcessMetrics;
import org.murmur.server.round.TaskRegistry;

/**
 * The real Murmur server, run inside the demo's process as {@code murmur serve} runs it: every RPC
 * over Netty on a free loopback port, the round engine on the demo's data directory, a Prometheus
 * registry with the process metrics, served on its own port, and one admin key, made for this run,
 * that creates the task. {@link #close()} stops all of it.
 */
final class DemoServer implements AutoCloseable {
    private final NodeKeys admin;
    private final ProcessMetrics process;
    private final MurmurServer server;
    private final MetricsEndpoint metrics;
    private final PrometheusMeterRegistry meters;

    private DemoServer(NodeKeys admin, PrometheusMeterRegistry meters, ProcessMetrics process, MurmurServer server,
                       MetricsEndpoint metrics) {
        this.admin = admin;
        this.meters = meters;
        this.process = process;
        this.server = server;
        this.metrics = metrics;
    }

    static DemoServer start(DemoSettings settings) throws IOException {
        NodeKeys admin = NodeKeys.generate();
        ServerConfig config = settings.serverConfig(admin.nodeId());
        PrometheusMeterRegistry meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        ProcessMetrics process = new ProcessMetrics(meters);
        InetSocketAddress address = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
        NettyServerBuilder loopback = NettyServerBuilder.forAddress(address, InsecureServerCredentials.create())
                .flowControlWindow(config.flowControlWindowBytes());
        MurmurServer server = null;
        try {
            server = MurmurServer.start(loopback, config, System::currentTimeMillis, meters);
            MetricsEndpoint metrics = MetricsEndpoint.start(settings.metricsPort(), meters);
            return new DemoServer(admin, meters, process, server, metrics);
        } catch (IOException | RuntimeException e) {
            if (server != null) {
                server.close();
            }
            process.close();
            throw e;
        }
    }

    /** A fresh plaintext channel to the server, as a node on this machine would open. */
    ManagedChannel channel() {
        return ManagedChannelBuilder.forAddress(InetAddress.getLoopbackAddress().getHostAddress(), server.port())
                .usePlaintext().maxInboundMessageSize(Wire.MAX_MESSAGE_BYTES).build();
    }

    NodeKeys admin() {
        return admin;
    }

    /** The tasks of the data directory, those of earlier runs included. */
    TaskRegistry tasks() {
        return server.tasks().orElseThrow();
    }

    /** The aggregation backend the server opened (what {@code --backend auto} found). */
    String backend() {
        return meters.get(MurmurServer.BACKEND_INFO).gauge().getId().getTag("backend");
    }

    int port() {
        return server.port();
    }

    String metricsUrl() {
        return "http://localhost:" + metrics.port() + "/metrics";
    }

    @Override
    public void close() {
        metrics.close();
        server.close();
        process.close();
    }
}
