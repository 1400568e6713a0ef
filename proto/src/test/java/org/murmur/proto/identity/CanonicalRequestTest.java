package org.murmur.proto.identity;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

class CanonicalRequestTest {
    private static final NodeId NODE = NodeId.parse("21fe31dfa154a261626bf854046fd2271b7bed4b");
    private static final NodeId OTHER = NodeId.parse("0000000000000000000000000000000000000001");

    private static byte[] filled(int n, int value) {
        byte[] bytes = new byte[n];
        Arrays.fill(bytes, (byte) value);
        return bytes;
    }

    private static CanonicalRequest base() {
        return CanonicalRequest.of(Purpose.PUSH_UPDATE, "task-1", 5, NODE, filled(16, 7), filled(32, 9));
    }

    private static byte[] str(ByteArrayOutputStream out, byte[] value) {
        out.writeBytes(ByteBuffer.allocate(4).putInt(value.length).array());
        out.writeBytes(value);
        return value;
    }

    @Test
    void encodingIsTheDocumentedLayout() {
        ByteArrayOutputStream expected = new ByteArrayOutputStream();
        str(expected, "murmur.v1/canonical-request".getBytes(StandardCharsets.UTF_8));
        str(expected, "murmur.v1/PushUpdate".getBytes(StandardCharsets.UTF_8));
        str(expected, "task-1".getBytes(StandardCharsets.UTF_8));
        expected.writeBytes(ByteBuffer.allocate(8).putLong(5).array());
        str(expected, NODE.hex().getBytes(StandardCharsets.US_ASCII));
        str(expected, filled(16, 7));
        str(expected, filled(32, 9));

        assertArrayEquals(expected.toByteArray(), base().encode());
    }

    @Test
    void everyFieldChangeChangesTheBytes() {
        CanonicalRequest b = base();
        List<UnaryOperator<CanonicalRequest>> changes = List.of(
                r -> CanonicalRequest.of(Purpose.JOIN, r.taskId(), r.round(), r.nodeId(), r.nonce(), r.payloadDigest()),
                r -> CanonicalRequest.of(r.purpose(), "task-2", r.round(), r.nodeId(), r.nonce(), r.payloadDigest()),
                r -> CanonicalRequest.of(r.purpose(), "", r.round(), r.nodeId(), r.nonce(), r.payloadDigest()),
                r -> CanonicalRequest.of(r.purpose(), r.taskId(), 6, r.nodeId(), r.nonce(), r.payloadDigest()),
                r -> CanonicalRequest.of(r.purpose(), r.taskId(), -1L, r.nodeId(), r.nonce(), r.payloadDigest()),
                r -> CanonicalRequest.of(r.purpose(), r.taskId(), r.round(), OTHER, r.nonce(), r.payloadDigest()),
                r -> CanonicalRequest.of(r.purpose(), r.taskId(), r.round(), r.nodeId(), filled(16, 8), r.payloadDigest()),
                r -> CanonicalRequest.of(r.purpose(), r.taskId(), r.round(), r.nodeId(), filled(17, 7), r.payloadDigest()),
                r -> CanonicalRequest.of(r.purpose(), r.taskId(), r.round(), r.nodeId(), r.nonce(), filled(32, 10)));
        Set<String> encodings = new HashSet<>();
        encodings.add(Arrays.toString(b.encode()));
        for (UnaryOperator<CanonicalRequest> change : changes) {
            CanonicalRequest changed = change.apply(b);
            assertFalse(Arrays.equals(b.encode(), changed.encode()), changed.toString());
            assertFalse(b.equals(changed));
            encodings.add(Arrays.toString(changed.encode()));
        }
        assertEquals(changes.size() + 1, encodings.size(), "every variant encodes differently");
    }

    @Test
    void everyPurposeHasItsOwnTag() {
        Set<String> tags = new HashSet<>();
        for (Purpose purpose : Purpose.values()) {
            assertTrue(purpose.tag().startsWith("murmur.v1/"));
            tags.add(purpose.tag());
        }
        assertEquals(Purpose.values().length, tags.size());
    }

    @Test
    void lengthPrefixesKeepAdjacentStringsApart() {
        byte[] abC = new CanonicalWriter().string("ab").string("c").toByteArray();
        byte[] aBc = new CanonicalWriter().string("a").string("bc").toByteArray();
        assertFalse(Arrays.equals(abC, aBc));
        byte[] emptyFirst = new CanonicalWriter().string("").string("abc").toByteArray();
        byte[] emptyLast = new CanonicalWriter().string("abc").string("").toByteArray();
        assertFalse(Arrays.equals(emptyFirst, emptyLast));
    }

    @Test
    void roundIsUnsigned64Bit() {
        byte[] encoded = CanonicalRequest.of(Purpose.JOIN, "t", -1L, NODE, filled(16, 1), filled(32, 2)).encode();
        int roundAt = 4 + 27 + 4 + "murmur.v1/Join".length() + 4 + 1;
        assertArrayEquals(filled(8, 0xff), Arrays.copyOfRange(encoded, roundAt, roundAt + 8));
        assertTrue(CanonicalRequest.of(Purpose.JOIN, "t", -1L, NODE, filled(16, 1), filled(32, 2)).toString()
                .contains("round=18446744073709551615"));
    }

    @Test
    void malformedFieldsAreRefusedNamingTheField() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CanonicalRequest.of(Purpose.JOIN, "t", 0, NODE, filled(15, 1), filled(32, 2)));
        assertTrue(e.getMessage().startsWith("nonce"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> CanonicalRequest.of(Purpose.JOIN, "t", 0, NODE, filled(65, 1), filled(32, 2)));
        e = assertThrows(IllegalArgumentException.class,
                () -> CanonicalRequest.of(Purpose.JOIN, "t", 0, NODE, filled(16, 1), filled(31, 2)));
        assertTrue(e.getMessage().startsWith("payload digest"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> CanonicalRequest.of(Purpose.JOIN, "t\uD800", 0, NODE, filled(16, 1), filled(32, 2)));
        assertThrows(IllegalArgumentException.class,
                () -> CanonicalRequest.of(Purpose.JOIN, "x".repeat(1025), 0, NODE, filled(16, 1), filled(32, 2)));
        assertThrows(NullPointerException.class,
                () -> CanonicalRequest.of(null, "t", 0, NODE, filled(16, 1), filled(32, 2)));
    }

    @Test
    void inputsAreCopied() {
        byte[] nonce = filled(16, 7);
        CanonicalRequest request = CanonicalRequest.of(Purpose.JOIN, "t", 0, NODE, nonce, filled(32, 2));
        byte[] before = request.encode();
        nonce[0] = 99;
        request.nonce()[1] = 99;
        assertArrayEquals(before, request.encode());
    }
}
