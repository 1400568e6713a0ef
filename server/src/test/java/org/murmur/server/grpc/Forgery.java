package org.murmur.server.grpc;

import com.google.protobuf.ByteString;
import java.security.GeneralSecurityException;
import java.security.Signature;
import org.murmur.proto.identity.CanonicalPayload;
import org.murmur.proto.identity.CanonicalRequest;
import org.murmur.proto.identity.NodeId;
import org.murmur.proto.identity.Purpose;
import org.murmur.proto.identity.RequestSigner;
import org.murmur.proto.v1.Auth;
import org.murmur.proto.v1.UpdateHeader;

/** Headers signed by one node's key while claiming another node's id (RequestSigner refuses to). */
final class Forgery {
    private Forgery() {
    }

    static UpdateHeader signAs(TestNode signer, NodeId claimed, UpdateHeader.Builder header, boolean presentOwnKey)
            throws GeneralSecurityException {
        UpdateHeader built = header.clearAuth().build();
        byte[] nonce = RequestSigner.newNonce();
        CanonicalRequest request = CanonicalRequest.of(Purpose.PUSH_UPDATE, built.getTaskId(), built.getRound(),
                claimed, nonce, CanonicalPayload.digest(built));
        Signature signature = Signature.getInstance("Ed25519");
        signature.initSign(signer.keys.privateKey());
        signature.update(request.encode());
        Auth.Builder auth = Auth.newBuilder()
                .setNodeId(claimed.hex())
                .setNonce(ByteString.copyFrom(nonce))
                .setSignature(ByteString.copyFrom(signature.sign()));
        if (presentOwnKey) {
            auth.setPublicKey(ByteString.copyFrom(signer.keys.rawPublicKey()));
        }
        return built.toBuilder().setAuth(auth).build();
    }
}
