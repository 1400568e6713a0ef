package org.murmur.server.grpc;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import java.util.ArrayList;
import java.util.List;
import org.murmur.proto.Wire;
import org.murmur.proto.identity.NodeId;
import org.murmur.proto.identity.NodeKeys;
import org.murmur.proto.identity.Purpose;
import org.murmur.proto.identity.RequestSigner;
import org.murmur.proto.v1.Chunk;
import org.murmur.proto.v1.PushUpdateRequest;
import org.murmur.proto.v1.UpdateHeader;

/** A node's key and the messages it sends: signed headers and chunks cut from a file's bytes. */
final class TestNode {
    final NodeKeys keys = NodeKeys.generate();
    final RequestSigner signer = new RequestSigner(keys);

    NodeId id() {
        return keys.nodeId();
    }

    /** The unsigned header of {@code file}: manifest = the test schema, 7 samples. */
    UpdateHeader.Builder unsigned(String taskId, long round, byte[] file) {
        return UpdateHeader.newBuilder()
                .setTaskId(taskId)
                .setRound(round)
                .addAllManifest(TestModels.SCHEMA.toProto())
                .setTotalBytes(file.length)
                .setSha256(ByteString.copyFrom(TestModels.sha256(file)))
                .setNumSamples(7);
    }

    /** Signs {@code header} as this node (purpose PushUpdate, the header's task and round). */
    UpdateHeader sign(UpdateHeader.Builder header) {
        UpdateHeader built = header.clearAuth().build();
        return built.toBuilder()
                .setAuth(signer.auth(Purpose.PUSH_UPDATE, built.getTaskId(), built.getRound(), built))
                .build();
    }

    UpdateHeader header(String taskId, long round, byte[] file) {
        return sign(unsigned(taskId, round, file));
    }

    static PushUpdateRequest message(UpdateHeader header) {
        return PushUpdateRequest.newBuilder().setHeader(header).build();
    }

    static PushUpdateRequest chunk(byte[] file, long offset, int length) {
        return PushUpdateRequest.newBuilder()
                .setChunk(Chunk.newBuilder().setOffset(offset)
                        .setData(UnsafeByteOperations.unsafeWrap(file, (int) offset, length)))
                .build();
    }

    /** Chunks of {@link Wire#CHUNK_BYTES} covering [from, to) of {@code file}. */
    static List<PushUpdateRequest> chunks(byte[] file, long from, long to) {
        List<PushUpdateRequest> chunks = new ArrayList<>();
        for (long at = from; at < to; at += Wire.CHUNK_BYTES) {
            chunks.add(chunk(file, at, (int) Math.min(Wire.CHUNK_BYTES, to - at)));
        }
        return chunks;
    }

    /** Header then every chunk of the file. */
    static List<PushUpdateRequest> upload(UpdateHeader header, byte[] file) {
        List<PushUpdateRequest> messages = new ArrayList<>();
        messages.add(message(header));
        messages.addAll(chunks(file, 0, file.length));
        return messages;
    }
}
