package org.murmur.server.grpc;

import com.google.protobuf.ByteString;
import com.google.protobuf.MessageOrBuilder;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import org.murmur.proto.identity.NodeId;
import org.murmur.proto.identity.Purpose;
import org.murmur.proto.v1.Auth;
import org.murmur.proto.v1.RefusalReason;
import org.murmur.proto.v1.TensorSpec;
import org.murmur.server.model.ModelSchema;

/**
 * The checks every upload header goes through, whatever its RPC: the syntax of the fields all
 * headers share, the signature and a fresh nonce, and a total size the manifest and the server's
 * limits allow. Each failure is a {@link Refusal} naming the field. Thread-safe.
 */
final class HeaderChecks {
    private static final HexFormat HEX = HexFormat.of();
    /** Length field plus the smallest JSON object, "{}". */
    private static final long MIN_FRAMING_BYTES = 8 + 2;

    private final ServerConfig config;
    private final RequestAuthenticator authenticator;
    private final NonceRegistry nonces;

    HeaderChecks(ServerConfig config, RequestAuthenticator authenticator, NonceRegistry nonces) {
        this.config = Objects.requireNonNull(config, "config");
        this.authenticator = Objects.requireNonNull(authenticator, "authenticator");
        this.nonces = Objects.requireNonNull(nonces, "nonces");
    }

    /**
     * Syntax only: the auth block present, a 32-byte SHA-256, a non-zero size and a non-empty,
     * well-formed manifest.
     *
     * @param file what the file is, for messages ("update", "model")
     */
    static UploadHeader wellFormed(boolean hasAuth, List<TensorSpec> manifest, long totalBytes, ByteString sha256,
                                   boolean resume, String file) throws Refusal {
        if (!hasAuth) {
            throw new Refusal(RefusalReason.MALFORMED_REQUEST, "header.auth is missing: sign the header");
        }
        if (sha256.size() != 32) {
            throw new Refusal(RefusalReason.MALFORMED_REQUEST, "header.sha256 must be the 32-byte SHA-256 of"
                    + " the file, got " + sha256.size() + " bytes");
        }
        if (totalBytes == 0) {
            throw new Refusal(RefusalReason.MALFORMED_REQUEST, "header.total_bytes is 0; announce the size of"
                    + " the whole file");
        }
        if (manifest.isEmpty()) {
            throw new Refusal(RefusalReason.MALFORMED_REQUEST, "header.manifest is empty; list every tensor of"
                    + " the " + file);
        }
        try {
            return new UploadHeader(ModelSchema.fromProto(manifest), totalBytes, sha256, resume);
        } catch (IllegalArgumentException e) {
            throw new Refusal(RefusalReason.MALFORMED_REQUEST, "header.manifest: " + e.getMessage());
        }
    }

    /**
     * The signer of {@code header}: its signature verified (see {@link RequestAuthenticator}) and
     * its nonce never used before by that node for {@code purpose}.
     *
     * @param keyFromRequest whether the key carried in {@code auth.public_key} may be used when none
     *                       is registered for the node (an admin's requests)
     */
    NodeId signer(Purpose purpose, String taskId, long round, MessageOrBuilder header, Auth auth,
                  boolean keyFromRequest) throws Refusal {
        NodeId node = authenticator.authenticate(purpose, taskId, round, header, auth, "header.auth",
                keyFromRequest).node();
        if (!nonces.register(node, purpose, auth.getNonce().toByteArray())) {
            throw new Refusal(RefusalReason.REPLAYED_NONCE, "nonce " + HEX.formatHex(auth.getNonce().toByteArray())
                    + " was already used by node " + node + " for " + purpose.tag() + ": sign every request,"
                    + " resumes included, with a fresh random nonce");
        }
        return node;
    }

    /** A total size within the server's limit and what the manifest's tensors imply. */
    void checkTotalBytes(UploadHeader header) throws Refusal {
        long total = header.totalBytes();
        if (total < 0 || total > config.maxUpdateBytes()) {
            throw new Refusal(RefusalReason.SIZE_MISMATCH, "total_bytes " + Long.toUnsignedString(total)
                    + " exceeds this server's limit of " + config.maxUpdateBytes() + " bytes ("
                    + ServerConfig.MAX_UPDATE_BYTES + ")");
        }
        long data = header.manifest().dataBytes();
        long smallest = saturatingAdd(MIN_FRAMING_BYTES, data);
        if (total < smallest) {
            throw new Refusal(RefusalReason.SIZE_MISMATCH, "total_bytes " + total + " is too small for the"
                    + " manifest: its tensors alone take " + data + " bytes, so the file is at least " + smallest
                    + " bytes (8-byte length field, a header, the tensor data)");
        }
        long largest = saturatingAdd(saturatingAdd(8, config.maxHeaderBytes()), data);
        if (total > largest) {
            throw new Refusal(RefusalReason.SIZE_MISMATCH, "total_bytes " + total + " is too large for the"
                    + " manifest: its tensors take " + data + " bytes, which leaves " + (total - 8 - data)
                    + " bytes for the header, more than this server's limit of " + config.maxHeaderBytes()
                    + " (" + ServerConfig.MAX_HEADER_BYTES + ")");
        }
    }

    private static long saturatingAdd(long a, long b) {
        long sum = a + b;
        return ((a ^ sum) & (b ^ sum)) < 0 ? Long.MAX_VALUE : sum;
    }
}
