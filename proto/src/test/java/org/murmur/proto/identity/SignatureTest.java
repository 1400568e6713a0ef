package org.murmur.proto.identity;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.murmur.proto.identity.SignatureVerifier.Outcome;
import org.murmur.proto.v1.Auth;
import org.murmur.proto.v1.CommitVoteRequest;

class SignatureTest {
    private static final NodeKeys ALICE = NodeKeys.generate();
    private static final NodeKeys BOB = NodeKeys.generate();

    private static CanonicalRequest request(NodeKeys keys) {
        byte[] digest = new byte[32];
        Arrays.fill(digest, (byte) 3);
        return CanonicalRequest.of(Purpose.PUSH_UPDATE, "task-1", 4, keys.nodeId(), RequestSigner.newNonce(), digest);
    }

    @Test
    void aSignatureVerifiesWithTheSignersKey() throws SignatureRejectedException {
        CanonicalRequest request = request(ALICE);
        byte[] signature = new RequestSigner(ALICE).sign(request);
        assertEquals(Ed25519.SIGNATURE_BYTES, signature.length);
        assertEquals(Outcome.VALID, SignatureVerifier.check(request, signature, ALICE.publicKey()));
        SignatureVerifier.verify(request, signature, ALICE.publicKey());
    }

    @Test
    void anyTamperedFieldFails() {
        CanonicalRequest r = request(ALICE);
        byte[] signature = new RequestSigner(ALICE).sign(r);
        byte[] otherDigest = r.payloadDigest();
        otherDigest[31] ^= 1;
        byte[] otherNonce = r.nonce();
        otherNonce[0] ^= 1;
        List<CanonicalRequest> tampered = List.of(
                CanonicalRequest.of(Purpose.PUSH_UPDATE, "task-2", r.round(), r.nodeId(), r.nonce(), r.payloadDigest()),
                CanonicalRequest.of(Purpose.PUSH_UPDATE, r.taskId(), 5, r.nodeId(), r.nonce(), r.payloadDigest()),
                CanonicalRequest.of(Purpose.PUSH_UPDATE, r.taskId(), r.round(), r.nodeId(), otherNonce, r.payloadDigest()),
                CanonicalRequest.of(Purpose.PUSH_UPDATE, r.taskId(), r.round(), r.nodeId(), r.nonce(), otherDigest));
        for (CanonicalRequest t : tampered) {
            assertEquals(Outcome.BAD_SIGNATURE, SignatureVerifier.check(t, signature, ALICE.publicKey()), t.toString());
        }
        byte[] flipped = signature.clone();
        flipped[10] ^= 1;
        assertEquals(Outcome.BAD_SIGNATURE, SignatureVerifier.check(r, flipped, ALICE.publicKey()));
        assertEquals(Outcome.BAD_SIGNATURE, SignatureVerifier.check(r, Arrays.copyOf(signature, 63), ALICE.publicKey()));
        assertEquals(Outcome.BAD_SIGNATURE, SignatureVerifier.check(r, null, ALICE.publicKey()));
    }

    @Test
    void aSignatureForOnePurposeIsWorthNothingForAnother() {
        CanonicalRequest push = request(ALICE);
        byte[] signature = new RequestSigner(ALICE).sign(push);
        for (Purpose purpose : Purpose.values()) {
            if (purpose == Purpose.PUSH_UPDATE) {
                continue;
            }
            CanonicalRequest other = CanonicalRequest.of(purpose, push.taskId(), push.round(), push.nodeId(),
                    push.nonce(), push.payloadDigest());
            assertEquals(Outcome.BAD_SIGNATURE, SignatureVerifier.check(other, signature, ALICE.publicKey()), purpose.tag());
        }
    }

    @Test
    void anotherNodesKeyFails() {
        CanonicalRequest request = request(ALICE);
        byte[] signature = new RequestSigner(ALICE).sign(request);
        // Bob's key for a request from Alice: Bob's key does not derive Alice's id.
        assertEquals(Outcome.NODE_ID_MISMATCH, SignatureVerifier.check(request, signature, BOB.publicKey()));
        // Alice claims Bob's id and signs with her own key: Bob's key does not verify it.
        CanonicalRequest claimsBob = CanonicalRequest.of(Purpose.PUSH_UPDATE, "task-1", 4, BOB.nodeId(),
                request.nonce(), request.payloadDigest());
        byte[] forged = new RequestSigner(BOB).sign(claimsBob);
        assertEquals(Outcome.VALID, SignatureVerifier.check(claimsBob, forged, BOB.publicKey()));
        assertEquals(Outcome.BAD_SIGNATURE, SignatureVerifier.check(claimsBob, signature, BOB.publicKey()));
        assertEquals(Outcome.NODE_ID_MISMATCH, SignatureVerifier.check(claimsBob, signature, ALICE.publicKey()));
    }

    @Test
    void anUnknownKeyFails() {
        CanonicalRequest request = request(ALICE);
        byte[] signature = new RequestSigner(ALICE).sign(request);
        assertEquals(Outcome.UNKNOWN_KEY, SignatureVerifier.check(request, signature, null));
    }

    @Test
    void verifyThrowsNamingWhatFailed() {
        CanonicalRequest request = request(ALICE);
        byte[] signature = new RequestSigner(ALICE).sign(request);
        SignatureRejectedException e = assertThrows(SignatureRejectedException.class,
                () -> SignatureVerifier.verify(request, signature, BOB.publicKey()));
        assertEquals(Outcome.NODE_ID_MISMATCH, e.outcome());
        assertTrue(e.getMessage().contains("murmur.v1/PushUpdate") && e.getMessage().contains(ALICE.nodeId().hex())
                && e.getMessage().contains("node id"), e.getMessage());
        e = assertThrows(SignatureRejectedException.class, () -> SignatureVerifier.verify(request, signature, null));
        assertEquals(Outcome.UNKNOWN_KEY, e.outcome());
    }

    @Test
    void aSignerSignsOnlyForItself() {
        assertThrows(IllegalArgumentException.class, () -> new RequestSigner(ALICE).sign(request(BOB)));
    }

    @Test
    void noncesAreFreshAndLongEnough() {
        byte[] a = RequestSigner.newNonce();
        byte[] b = RequestSigner.newNonce();
        assertTrue(a.length >= CanonicalRequest.MIN_NONCE_BYTES);
        assertFalse(Arrays.equals(a, b));
    }

    @Test
    void signedMessagesVerifyAndTamperedOnesDoNot() throws SignatureRejectedException {
        CommitVoteRequest unsigned = CommitVoteRequest.newBuilder()
                .setTaskId("task-1").setRound(4).setCommitment(ByteString.copyFrom(new byte[32])).build();
        Auth auth = new RequestSigner(ALICE).auth(Purpose.COMMIT_VOTE, "task-1", 4, unsigned);
        CommitVoteRequest signed = unsigned.toBuilder().setAuth(auth).build();

        assertEquals(ALICE.nodeId().hex(), auth.getNodeId());
        assertArrayEquals(ALICE.rawPublicKey(), auth.getPublicKey().toByteArray());
        SignatureVerifier.verify(Purpose.COMMIT_VOTE, signed.getTaskId(), signed.getRound(), signed, signed.getAuth(),
                Ed25519.publicKey(signed.getAuth().getPublicKey().toByteArray()));

        CommitVoteRequest tampered = signed.toBuilder()
                .setCommitment(ByteString.copyFrom(new byte[31]).concat(ByteString.copyFrom(new byte[] {1}))).build();
        SignatureRejectedException e = assertThrows(SignatureRejectedException.class,
                () -> SignatureVerifier.verify(Purpose.COMMIT_VOTE, tampered.getTaskId(), tampered.getRound(), tampered,
                        tampered.getAuth(), ALICE.publicKey()));
        assertEquals(Outcome.BAD_SIGNATURE, e.outcome());

        e = assertThrows(SignatureRejectedException.class,
                () -> SignatureVerifier.verify(Purpose.REVEAL_VOTE, signed.getTaskId(), signed.getRound(), signed,
                        signed.getAuth(), ALICE.publicKey()));
        assertEquals(Outcome.BAD_SIGNATURE, e.outcome());

        // A captured request stays valid for the verifier: replay is refused by the server's nonce memory.
        assertDoesNotThrow(() -> SignatureVerifier.verify(Purpose.COMMIT_VOTE, signed.getTaskId(), signed.getRound(),
                signed, signed.getAuth(), ALICE.publicKey()));

        CommitVoteRequest badNodeId = signed.toBuilder().setAuth(auth.toBuilder().setNodeId("ALICE")).build();
        assertThrows(IllegalArgumentException.class,
                () -> SignatureVerifier.verify(Purpose.COMMIT_VOTE, "task-1", 4, badNodeId, badNodeId.getAuth(),
                        ALICE.publicKey()));
    }

    /** A key the JDK's factory built from bytes that are no curve point: a refusal, not a failure to verify. */
    @Test
    void aKeyThatIsNoPointOfTheCurveVerifiesNothing() throws Exception {
        byte[] encoded = Arrays.copyOf(ALICE.publicKey().getEncoded(), 44);
        Arrays.fill(encoded, 12, 44, (byte) 0);
        encoded[12] = 2;
        PublicKey notAPoint = KeyFactory.getInstance(Ed25519.ALGORITHM).generatePublic(new X509EncodedKeySpec(encoded));
        CanonicalRequest request = CanonicalRequest.of(Purpose.PUSH_UPDATE, "task-1", 4, NodeId.of(notAPoint),
                RequestSigner.newNonce(), new byte[32]);
        assertEquals(Outcome.BAD_SIGNATURE, SignatureVerifier.check(request, new byte[64], notAPoint));
    }

    /**
     * With the neutral element as public key (01 00..00), the signature R = 01 00..00, S = 0
     * satisfies the JDK's check [S]B = R + [k]A for every message: it must not count as valid.
     */
    @Test
    void aSignatureWithAKeyOfSmallOrderVerifiesNothing() throws Exception {
        byte[] neutral = new byte[Ed25519.PUBLIC_KEY_BYTES];
        neutral[0] = 1;
        byte[] encoded = Arrays.copyOf(ALICE.publicKey().getEncoded(), 44);
        System.arraycopy(neutral, 0, encoded, 12, 32);
        PublicKey weak = KeyFactory.getInstance(Ed25519.ALGORITHM).generatePublic(new X509EncodedKeySpec(encoded));
        byte[] forged = Arrays.copyOf(neutral, Ed25519.SIGNATURE_BYTES);
        CanonicalRequest request = CanonicalRequest.of(Purpose.WITHDRAW, "task-1", 0, NodeId.of(weak),
                RequestSigner.newNonce(), new byte[32]);
        assertEquals(Outcome.BAD_SIGNATURE, SignatureVerifier.check(request, forged, weak));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Ed25519.publicKey(neutral));
        assertTrue(e.getMessage().contains("small order"), e.getMessage());
    }

    /** Every encoding of a point of small order the JDK accepts as a key is refused when read. */
    @ParameterizedTest
    @ValueSource(strings = {
        "0000000000000000000000000000000000000000000000000000000000000000",
        "0000000000000000000000000000000000000000000000000000000000000080",
        "0100000000000000000000000000000000000000000000000000000000000000",
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"})
    void aKeyOfSmallOrderIsRefusedWhenItIsRead(String hex) {
        byte[] raw = java.util.HexFormat.of().parseHex(hex);
        assertTrue(Ed25519.hasSmallOrder(raw));
        assertThrows(IllegalArgumentException.class, () -> Ed25519.publicKey(raw));
    }
}
