package org.murmur.proto.identity;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.Parser;
import java.security.PublicKey;
import java.util.Arrays;
import java.util.List;
import org.murmur.proto.identity.SignatureVerifier.Outcome;
import org.murmur.proto.v1.Auth;
import org.murmur.proto.v1.CommitVoteRequest;
import org.murmur.proto.v1.CreateTaskRequest;
import org.murmur.proto.v1.JoinRequest;
import org.murmur.proto.v1.ModelHeader;
import org.murmur.proto.v1.RevealVoteRequest;
import org.murmur.proto.v1.StakeRequest;
import org.murmur.proto.v1.UpdateHeader;
import org.murmur.proto.v1.WithdrawRequest;

/**
 * Coverage-guided fuzzing of what a signature covers: {@link CanonicalPayload} over any message
 * of the signed request types that parses from the fuzzer's bytes, and {@link SignatureVerifier}
 * with fuzzed keys, signatures, nonces and requests. Only the documented failures may escape
 * (IllegalArgumentException for a malformed request or a message with unknown fields,
 * {@link SignatureRejectedException} for a refused signature), and a signature a real key made
 * over one request never verifies for any other. The keys are drawn afresh each run: the
 * properties hold for every key, so a finding reproduces with any.
 */
class SignatureFuzzTest {
    private static final NodeKeys SIGNER = NodeKeys.generate();
    private static final NodeKeys OTHER = NodeKeys.generate();

    /** Every request type a node signs: each has its {@code Auth} as field 1. */
    private static final List<Parser<? extends Message>> SIGNED = List.of(UpdateHeader.parser(),
            CommitVoteRequest.parser(), RevealVoteRequest.parser(), CreateTaskRequest.parser(),
            StakeRequest.parser(), JoinRequest.parser(), ModelHeader.parser(), WithdrawRequest.parser());

    /**
     * The canonical encoding of any parsed message: only IllegalArgumentException (unknown
     * fields) escapes; it ignores the top-level auth, survives a re-serialization, and two
     * messages with the same encoding are the same request.
     */
    @FuzzTest
    void canonicalPayload(FuzzedDataProvider data) {
        Parser<? extends Message> parser = data.pickValue(SIGNED);
        Message first = parse(parser, data.consumeBytes(data.consumeInt(0, 2048)));
        Message second = parse(parser, data.consumeRemainingAsBytes());
        byte[] a = encodeOrNull(first);
        byte[] b = encodeOrNull(second);
        if (a != null) {
            assertArrayEquals(a, CanonicalPayload.encode(withoutAuth(first)), "the top-level auth is not covered");
            assertArrayEquals(a, CanonicalPayload.encode(parse(parser, first.toByteArray())),
                    "a re-serialized message encodes the same");
        }
        if (a != null && b != null && Arrays.equals(a, b)) {
            assertEquals(withoutAuth(first), withoutAuth(second), "two requests share a canonical encoding");
        }
    }

    /**
     * A real signature over one request, then one fuzzed change: the changed request verifies
     * only if it is the same request, and the original always does.
     */
    @FuzzTest
    void aSignatureCoversEveryField(FuzzedDataProvider data) throws SignatureRejectedException {
        Purpose purpose = data.pickValue(Purpose.values());
        String taskId = data.consumeString(80);
        long round = data.consumeLong();
        byte[] nonce = data.consumeBytes(data.consumeInt(16, 64));
        if (nonce.length < CanonicalRequest.MIN_NONCE_BYTES) {
            return;
        }
        Message message = parse(data.pickValue(SIGNED), data.consumeBytes(512));
        CanonicalRequest signed;
        try {
            signed = CanonicalRequest.of(purpose, taskId, round, SIGNER.nodeId(), nonce,
                    CanonicalPayload.digest(message));
        } catch (IllegalArgumentException malformed) {
            return;
        }
        byte[] signature = new RequestSigner(SIGNER).sign(signed);
        SignatureVerifier.verify(signed, signature, SIGNER.publicKey());

        CanonicalRequest changed = signed;
        byte[] presented = signature;
        PublicKey key = SIGNER.publicKey();
        switch (data.consumeInt(0, 7)) {
            case 0 -> changed = with(signed, data.pickValue(Purpose.values()), signed.taskId(), signed.round(),
                    signed.nonce(), signed.payloadDigest());
            case 1 -> changed = with(signed, signed.purpose(), data.consumeString(80), signed.round(), signed.nonce(),
                    signed.payloadDigest());
            case 2 -> changed = with(signed, signed.purpose(), signed.taskId(), data.consumeLong(), signed.nonce(),
                    signed.payloadDigest());
            case 3 -> changed = with(signed, signed.purpose(), signed.taskId(), signed.round(),
                    data.consumeBytes(64), signed.payloadDigest());
            case 4 -> {
                byte[] encoded = encodeOrNull(parse(data.pickValue(SIGNED), data.consumeRemainingAsBytes()));
                changed = encoded == null ? null : with(signed, signed.purpose(), signed.taskId(), signed.round(),
                        signed.nonce(), NodeId.sha256(encoded));
            }
            case 5 -> {
                presented = signature.clone();
                int at = data.consumeInt(0, presented.length - 1);
                presented[at] ^= (byte) data.consumeInt(1, 255);
            }
            case 6 -> presented = data.consumeBytes(80);
            default -> key = OTHER.publicKey();
        }
        if (changed == null) {
            return;
        }
        Outcome outcome = SignatureVerifier.check(changed, presented, key);
        boolean same = changed.equals(signed) && Arrays.equals(presented, signature) && key.equals(SIGNER.publicKey());
        if (same) {
            assertEquals(Outcome.VALID, outcome);
        } else {
            CanonicalRequest refused = changed;
            assertNotEquals(Outcome.VALID, outcome, () -> "a signature over " + signed + " verified for " + refused);
            byte[] refusedSignature = presented;
            PublicKey refusedKey = key;
            SignatureRejectedException e = assertThrows(SignatureRejectedException.class,
                    () -> SignatureVerifier.verify(refused, refusedSignature, refusedKey));
            assertEquals(outcome, e.outcome());
        }
    }

    /**
     * Fuzzed public keys (any 32 bytes, most not a curve point), signatures and auth blocks:
     * verification answers with an outcome, or the documented IllegalArgumentException for a
     * malformed key or request, and never VALID.
     */
    @FuzzTest
    void fuzzedKeysAndSignatures(FuzzedDataProvider data) {
        byte[] rawKey = data.consumeBytes(Ed25519.PUBLIC_KEY_BYTES);
        PublicKey key;
        try {
            key = Ed25519.publicKey(rawKey);
        } catch (IllegalArgumentException notAKey) {
            return;
        }
        NodeId node = data.consumeBoolean() ? NodeId.ofRawKey(rawKey) : SIGNER.nodeId();
        Auth auth = Auth.newBuilder().setNodeId(data.consumeBoolean() ? node.hex() : data.consumeString(41))
                .setNonce(ByteString.copyFrom(data.consumeBytes(data.consumeInt(0, 70))))
                .setSignature(ByteString.copyFrom(data.consumeBytes(data.consumeInt(0, 70))))
                .build();
        Purpose purpose = data.pickValue(Purpose.values());
        String taskId = data.consumeString(40);
        long round = data.consumeLong();
        Message message = parse(data.pickValue(SIGNED), data.consumeRemainingAsBytes());
        try {
            SignatureVerifier.verify(purpose, taskId, round, message, auth, key);
            throw new AssertionError("a fuzzed signature verified: " + auth);
        } catch (SignatureRejectedException refused) {
            assertNotEquals(Outcome.VALID, refused.outcome());
        } catch (IllegalArgumentException malformed) {
            // a node id, nonce, task id or message the canonical request refuses: documented
        }
    }

    private static CanonicalRequest with(CanonicalRequest r, Purpose purpose, String taskId, long round, byte[] nonce,
            byte[] digest) {
        try {
            return CanonicalRequest.of(purpose, taskId, round, r.nodeId(), nonce, digest);
        } catch (IllegalArgumentException malformed) {
            return null;
        }
    }

    private static Message parse(Parser<? extends Message> parser, byte[] bytes) {
        try {
            return parser.parseFrom(bytes);
        } catch (InvalidProtocolBufferException e) {
            return empty(parser);
        }
    }

    /** The empty message of the parser's type: what a request that did not parse is replaced by. */
    private static Message empty(Parser<? extends Message> parser) {
        try {
            return parser.parseFrom(new byte[0]);
        } catch (InvalidProtocolBufferException e) {
            throw new AssertionError(e);
        }
    }

    private static byte[] encodeOrNull(Message message) {
        try {
            return CanonicalPayload.encode(message);
        } catch (IllegalArgumentException unknownFields) {
            return null;
        }
    }

    private static Message withoutAuth(Message message) {
        return message.toBuilder().clearField(message.getDescriptorForType().findFieldByNumber(1)).build();
    }
}
