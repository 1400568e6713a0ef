package org.murmur.server.grpc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.murmur.server.grpc.Harness.TASK;
import static org.murmur.server.grpc.Harness.assertRefused;
import static org.murmur.server.grpc.Harness.await;
import static org.murmur.server.grpc.Harness.key;

import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.util.Base64;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.murmur.proto.Wire;
import org.murmur.proto.v1.GetUploadOffsetRequest;
import org.murmur.proto.v1.ModelKind;
import org.murmur.proto.v1.MurmurGrpc;
import org.murmur.proto.v1.PullModelRequest;
import org.murmur.proto.v1.RefusalReason;
import org.murmur.proto.v1.UploadReceipt;

/** The same RPCs over real sockets (Netty on an ephemeral port), plaintext and with mutual TLS. */
class NettyTransportTest {
    @TempDir
    Path dir;

    @Test
    void uploadsAndDownloadsOverASocketByteIdentical() throws Exception {
        byte[] file = TestModels.read(TestModels.write(dir.resolve("alice.safetensors"), 21));
        try (Harness h = Harness.netty(dir.resolve("data"))) {
            assertTrue(h.server.port() > 0);
            UploadReceipt receipt = h.pushAll(TestNode.upload(h.alice.header(TASK, 0, file), file));
            assertTrue(receipt.getComplete());
            Path stored = h.server.updateStore().find(key(h.alice, 0)).orElseThrow();
            assertArrayEquals(file, Files.readAllBytes(stored));

            h.catalog.setInitial(TASK, h.server.modelStore().put(stored));
            Downloader downloader = new Downloader(null);
            h.async.pullModel(PullModelRequest.newBuilder().setTaskId(TASK).setWhich(ModelKind.MODEL_KIND_GLOBAL)
                    .build(), downloader);
            assertArrayEquals(file, await(downloader.result).bytes());

            // Refusals keep their status, description and trailer over the wire.
            assertRefused(h.push(TestNode.upload(h.bob.header(TASK, 0, file), file), true).result,
                    Status.Code.PERMISSION_DENIED, RefusalReason.NOT_PROPOSER, h.bob.id().hex());
        }
    }

    @Test
    void servesMutualTlsAndRefusesClientsWithoutACertificate() throws Exception {
        Pem server = Pem.selfSigned(dir, "server");
        Pem client = Pem.selfSigned(dir, "client");
        ServerConfig config = ServerConfig.builder(dir.resolve("data")).port(0)
                .tls(new ServerConfig.Tls(server.cert, server.key, Optional.of(client.cert)))
                .build();
        StaticRoundGate gate = new StaticRoundGate();
        InMemoryModelCatalog catalog = new InMemoryModelCatalog();
        byte[] model = TestModels.read(TestModels.write(dir.resolve("model.safetensors"), 22));
        try (MurmurServer murmur = MurmurServer.start(config, gate, catalog, new SimpleMeterRegistry())) {
            catalog.setInitial(TASK, murmur.modelStore().put(dir.resolve("model.safetensors")));
            ChannelCredentials mutual = TlsChannelCredentials.newBuilder()
                    .trustManager(server.cert.toFile())
                    .keyManager(client.cert.toFile(), client.key.toFile())
                    .build();
            ManagedChannel channel = Grpc.newChannelBuilderForAddress("localhost", murmur.port(), mutual)
                    .maxInboundMessageSize(Wire.MAX_MESSAGE_BYTES).build();
            try {
                Downloader downloader = new Downloader(null);
                MurmurGrpc.newStub(channel).pullModel(PullModelRequest.newBuilder().setTaskId(TASK)
                        .setWhich(ModelKind.MODEL_KIND_GLOBAL).build(), downloader);
                assertArrayEquals(model, await(downloader.result).bytes());
            } finally {
                channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }

            ChannelCredentials anonymous = TlsChannelCredentials.newBuilder().trustManager(server.cert.toFile()).build();
            ManagedChannel stranger = Grpc.newChannelBuilderForAddress("localhost", murmur.port(), anonymous).build();
            try {
                StatusRuntimeException refused = assertThrows(StatusRuntimeException.class, () -> MurmurGrpc
                        .newBlockingStub(stranger).withDeadlineAfter(20, TimeUnit.SECONDS)
                        .getUploadOffset(GetUploadOffsetRequest.getDefaultInstance()));
                assertEquals(Status.Code.UNAVAILABLE, refused.getStatus().getCode(), refused.toString());
            } finally {
                stranger.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        }
    }

    /** A self-signed certificate for localhost and its PKCS#8 key, as PEM files (made with keytool). */
    record Pem(Path cert, Path key) {
        static Pem selfSigned(Path dir, String name) throws Exception {
            Path store = dir.resolve(name + ".p12");
            Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
            Process process = new ProcessBuilder(keytool.toString(), "-genkeypair", "-alias", name,
                    "-keyalg", "EC", "-groupname", "secp256r1", "-validity", "2", "-dname", "CN=localhost",
                    "-ext", "SAN=dns:localhost,ip:127.0.0.1", "-keystore", store.toString(),
                    "-storetype", "PKCS12", "-storepass", "changeit", "-keypass", "changeit")
                    .redirectErrorStream(true).start();
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
                throw new IOException("keytool failed: " + output);
            }
            KeyStore keys = KeyStore.getInstance("PKCS12");
            try (var in = Files.newInputStream(store)) {
                keys.load(in, "changeit".toCharArray());
            }
            PrivateKey key = (PrivateKey) keys.getKey(name, "changeit".toCharArray());
            Path cert = Files.writeString(dir.resolve(name + ".crt"),
                    pem("CERTIFICATE", keys.getCertificate(name).getEncoded()));
            Path keyFile = Files.writeString(dir.resolve(name + ".key"), pem("PRIVATE KEY", key.getEncoded()));
            return new Pem(cert, keyFile);
        }

        private static String pem(String label, byte[] der) {
            return "-----BEGIN " + label + "-----\n"
                    + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
                    + "\n-----END " + label + "-----\n";
        }
    }
}
