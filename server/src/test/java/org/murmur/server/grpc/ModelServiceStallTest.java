package org.murmur.server.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.murmur.server.grpc.Harness.TASK;

import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.Metadata;
import io.grpc.Status;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.murmur.proto.Wire;
import org.murmur.proto.v1.ModelKind;
import org.murmur.proto.v1.MurmurGrpc;
import org.murmur.proto.v1.PullModelRequest;
import org.murmur.proto.v1.PullModelResponse;

/**
 * A download whose client stops reading is ended after the idle timeout: the server closes the file
 * and sends no more chunks, so a stalled client holds nothing but what is already queued.
 */
class ModelServiceStallTest {
    @TempDir
    Path dir;

    private Harness h;

    @AfterEach
    void tearDown() {
        h.close();
    }

    @Test
    void aClientThatStopsReadingIsCutOffAsIdle() throws Exception {
        h = Harness.netty(dir.resolve("data"), b -> b.idleTimeout(Duration.ofMillis(500)));
        Path model = TestModels.write(dir.resolve("model.safetensors"), 3);
        h.catalog.setInitial(TASK, h.server.modelStore().put(model));

        ClientCall<PullModelRequest, PullModelResponse> call = h.channel.newCall(MurmurGrpc.getPullModelMethod(),
                CallOptions.DEFAULT);
        AtomicInteger received = new AtomicInteger();
        CompletableFuture<Status> closed = new CompletableFuture<>();
        CompletableFuture<String> reason = new CompletableFuture<>();
        call.start(new ClientCall.Listener<>() {
            @Override
            public void onMessage(PullModelResponse message) {
                received.incrementAndGet();
            }

            @Override
            public void onClose(Status status, Metadata trailers) {
                reason.complete(trailers.get(Wire.REFUSAL_REASON));
                closed.complete(status);
            }
        }, new Metadata());
        call.sendMessage(PullModelRequest.newBuilder().setTaskId(TASK).setWhich(ModelKind.MODEL_KIND_GLOBAL).build());
        call.halfClose();
        call.request(1); // the model info, then nothing more: the client stalls
        Thread.sleep(2_000);
        // HTTP/2 sends the refusal after the chunks already queued, so the client sees it once it reads again.
        call.request(Integer.MAX_VALUE);

        Status status = closed.get(30, TimeUnit.SECONDS);
        assertEquals(Status.Code.DEADLINE_EXCEEDED, status.getCode(), status.toString());
        assertEquals("STREAM_IDLE", reason.get());
        assertTrue(status.getDescription().contains("resume"), status.getDescription());
        long chunks = (Files.size(model) + Wire.CHUNK_BYTES - 1) / Wire.CHUNK_BYTES;
        assertTrue(received.get() < 1 + chunks, "the download stopped: " + received + " of " + (1 + chunks)
                + " messages");
    }
}
