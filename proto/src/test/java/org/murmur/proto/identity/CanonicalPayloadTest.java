package org.murmur.proto.identity;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.google.protobuf.Mixin;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.murmur.proto.v1.Auth;
import org.murmur.proto.v1.DType;
import org.murmur.proto.v1.GetTaskRequest;
import org.murmur.proto.v1.JoinRequest;
import org.murmur.proto.v1.TaskInfo;
import org.murmur.proto.v1.TaskParams;
import org.murmur.proto.v1.TensorSpec;
import org.murmur.proto.v1.UpdateHeader;

class CanonicalPayloadTest {

    private static UpdateHeader header() {
        return UpdateHeader.newBuilder()
                .setTaskId("task-1")
                .setRound(2)
                .addManifest(TensorSpec.newBuilder().setName("a").setDtype(DType.DTYPE_F32).addShape(3).addShape(4))
                .addManifest(TensorSpec.newBuilder().setName("b").setDtype(DType.DTYPE_BF16).addShape(5))
                .setTotalBytes(1234)
                .setSha256(ByteString.copyFrom(new byte[32]))
                .setNumSamples(60)
                .build();
    }

    @Test
    void goldenEncodingOfASmallMessage() {
        // JoinRequest{task_id: "t", round: 2}: u32(2) str("t") u32(3) u64(2); auth (field 1) left out.
        ByteBuffer expected = ByteBuffer.allocate(4 + 4 + 1 + 4 + 8)
                .putInt(2).putInt(1).put((byte) 't').putInt(3).putLong(2);
        JoinRequest join = JoinRequest.newBuilder().setTaskId("t").setRound(2)
                .setAuth(Auth.newBuilder().setNodeId("x")).build();
        assertArrayEquals(expected.array(), CanonicalPayload.encode(join));
        assertArrayEquals(NodeId.sha256(expected.array()), CanonicalPayload.digest(join));
    }

    @Test
    void authFieldIsLeftOutAtTheTopLevel() {
        UpdateHeader plain = header();
        UpdateHeader signed = plain.toBuilder().setAuth(Auth.newBuilder().setNodeId("n")
                .setNonce(ByteString.copyFrom(new byte[16])).setSignature(ByteString.copyFrom(new byte[64]))).build();
        assertArrayEquals(CanonicalPayload.digest(plain), CanonicalPayload.digest(signed));
    }

    @Test
    void everyFieldChangeChangesTheDigest() {
        UpdateHeader base = header();
        List<UnaryOperator<UpdateHeader.Builder>> changes = List.of(
                b -> b.setTaskId("task-2"),
                b -> b.setRound(3),
                b -> b.setManifest(0, b.getManifest(0).toBuilder().setName("c")),
                b -> b.setManifest(0, b.getManifest(0).toBuilder().setDtype(DType.DTYPE_F16)),
                b -> b.setManifest(0, b.getManifest(0).toBuilder().setShape(1, 5)),
                b -> b.setManifest(0, b.getManifest(0).toBuilder().addShape(1)),
                b -> b.setManifest(0, base.getManifest(1)).setManifest(1, base.getManifest(0)),
                b -> b.removeManifest(1),
                b -> b.setTotalBytes(1235),
                b -> b.setSha256(ByteString.copyFrom(new byte[31]).concat(ByteString.copyFrom(new byte[] {1}))),
                b -> b.setNumSamples(61),
                b -> b.setResume(true));
        Set<String> digests = new HashSet<>();
        digests.add(Arrays.toString(CanonicalPayload.digest(base)));
        for (UnaryOperator<UpdateHeader.Builder> change : changes) {
            UpdateHeader changed = change.apply(base.toBuilder()).build();
            assertFalse(Arrays.equals(CanonicalPayload.digest(base), CanonicalPayload.digest(changed)), changed.toString());
            digests.add(Arrays.toString(CanonicalPayload.digest(changed)));
        }
        assertEquals(changes.size() + 1, digests.size());
    }

    @Test
    void adjacentStringsAreNotAmbiguous() {
        Mixin abC = Mixin.newBuilder().setName("ab").setRoot("c").build();
        Mixin aBc = Mixin.newBuilder().setName("a").setRoot("bc").build();
        assertFalse(Arrays.equals(CanonicalPayload.encode(abC), CanonicalPayload.encode(aBc)));
        // And a value cannot pose as another field: "" then "abc" vs "abc" alone.
        Mixin rootOnly = Mixin.newBuilder().setRoot("abc").build();
        Mixin nameOnly = Mixin.newBuilder().setName("abc").build();
        assertFalse(Arrays.equals(CanonicalPayload.encode(rootOnly), CanonicalPayload.encode(nameOnly)));
    }

    @Test
    void explicitPresenceIsSigned() {
        TaskParams absent = TaskParams.newBuilder().build();
        TaskParams zero = TaskParams.newBuilder().setCommitteeSize(0).build();
        TaskParams falseVotes = TaskParams.newBuilder().setStakeWeightedVotes(false).build();
        assertFalse(Arrays.equals(CanonicalPayload.digest(absent), CanonicalPayload.digest(zero)));
        assertFalse(Arrays.equals(CanonicalPayload.digest(absent), CanonicalPayload.digest(falseVotes)));
        assertEquals(0, CanonicalPayload.encode(absent).length);
    }

    @Test
    void mapsAreSortedByKeyWhateverTheInsertionOrder() {
        Struct forward = Struct.newBuilder()
                .putFields("alpha", Value.newBuilder().setNumberValue(1).build())
                .putFields("beta", Value.newBuilder().setStringValue("x").build())
                .build();
        Struct backward = Struct.newBuilder()
                .putFields("beta", Value.newBuilder().setStringValue("x").build())
                .putFields("alpha", Value.newBuilder().setNumberValue(1).build())
                .build();
        Struct different = Struct.newBuilder()
                .putFields("alpha", Value.newBuilder().setNumberValue(2).build())
                .putFields("beta", Value.newBuilder().setStringValue("x").build())
                .build();
        assertArrayEquals(CanonicalPayload.encode(forward), CanonicalPayload.encode(backward));
        assertFalse(Arrays.equals(CanonicalPayload.encode(forward), CanonicalPayload.encode(different)));

        ByteArrayOutputStream expected = new ByteArrayOutputStream();
        expected.writeBytes(ByteBuffer.allocate(8).putInt(1).putInt(2).array()); // field 1, two entries
        // Sorted by the key's encoding, length prefix included: "beta" (4) before "alpha" (5).
        for (String key : new String[] {"beta", "alpha"}) {
            expected.writeBytes(ByteBuffer.allocate(4).putInt(key.length()).array());
            expected.writeBytes(key.getBytes(StandardCharsets.UTF_8));
            byte[] value = CanonicalPayload.encode(forward.getFieldsOrThrow(key));
            expected.writeBytes(ByteBuffer.allocate(4).putInt(value.length).array());
            expected.writeBytes(value);
        }
        assertArrayEquals(expected.toByteArray(), CanonicalPayload.encode(forward));
    }

    @Test
    void unsignedIntegersAreZeroExtended() {
        // uint32 committee_size = 8 with all bits set: 4294967295, not -1.
        byte[] encoded = CanonicalPayload.encode(TaskParams.newBuilder().setCommitteeSize(-1).build());
        assertArrayEquals(ByteBuffer.allocate(12).putInt(8).putLong(0xffffffffL).array(), encoded);
    }

    @Test
    void unknownFieldsAreRefused() throws Exception {
        byte[] taskInfo = TaskInfo.newBuilder().setTaskId("t").setCreatorId("c").build().toByteArray();
        GetTaskRequest withUnknown = GetTaskRequest.parseFrom(taskInfo);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CanonicalPayload.digest(withUnknown));
        assertTrue(e.getMessage().contains("murmur.v1.GetTaskRequest") && e.getMessage().contains("3"), e.getMessage());
    }
}
