package org.murmur.server.grpc;

import com.google.protobuf.ByteString;
import java.util.ArrayList;
import java.util.List;
import org.murmur.proto.identity.Purpose;
import org.murmur.proto.v1.ModelHeader;
import org.murmur.proto.v1.PushUpdateRequest;
import org.murmur.proto.v1.PutModelRequest;

/** The messages of a PutModel stream: signed ModelHeaders and chunks cut from a file's bytes. */
final class ModelUploads {
    private ModelUploads() {
    }

    /** The unsigned header of {@code file}: manifest = the test schema. */
    static ModelHeader.Builder unsigned(byte[] file) {
        return ModelHeader.newBuilder()
                .addAllManifest(TestModels.SCHEMA.toProto())
                .setTotalBytes(file.length)
                .setSha256(ByteString.copyFrom(TestModels.sha256(file)));
    }

    /** Signs {@code header} as {@code node} (purpose PutModel, task "", round 0; its public key included). */
    static ModelHeader sign(TestNode node, ModelHeader.Builder header) {
        ModelHeader built = header.clearAuth().build();
        return built.toBuilder().setAuth(node.signer.auth(Purpose.PUT_MODEL, "", 0, built)).build();
    }

    static ModelHeader header(TestNode node, byte[] file) {
        return sign(node, unsigned(file));
    }

    static ModelHeader resumeHeader(TestNode node, byte[] file) {
        return sign(node, unsigned(file).setResume(true));
    }

    static PutModelRequest message(ModelHeader header) {
        return PutModelRequest.newBuilder().setHeader(header).build();
    }

    /** Chunks of Wire.CHUNK_BYTES covering [from, to) of {@code file}. */
    static List<PutModelRequest> chunks(byte[] file, long from, long to) {
        List<PutModelRequest> chunks = new ArrayList<>();
        for (PushUpdateRequest chunk : TestNode.chunks(file, from, to)) {
            chunks.add(PutModelRequest.newBuilder().setChunk(chunk.getChunk()).build());
        }
        return chunks;
    }

    /** Header then every chunk of the file. */
    static List<PutModelRequest> upload(ModelHeader header, byte[] file) {
        List<PutModelRequest> messages = new ArrayList<>();
        messages.add(message(header));
        messages.addAll(chunks(file, 0, file.length));
        return messages;
    }

    /** Header then the chunks of [0, to). */
    static List<PutModelRequest> upTo(ModelHeader header, byte[] file, long to) {
        List<PutModelRequest> messages = new ArrayList<>();
        messages.add(message(header));
        messages.addAll(chunks(file, 0, to));
        return messages;
    }
}
