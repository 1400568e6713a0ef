package org.murmur.proto.identity;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.MessageOrBuilder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * A canonical byte encoding of a protobuf message, so that a signature covers a request's fields
 * and not one library's serialization of them (protobuf's own wire format is not canonical: field
 * order, map order and unknown fields may vary). Any language with protobuf reflection can
 * reproduce it.
 *
 * <p>A message is the sequence of its set fields in ascending field-number order, each as a u32
 * field number followed by its value. A field is set when it has explicit presence and is present,
 * or has none and is not its default (zero, false, empty; for float and double, when its bits are
 * not all zero), or is repeated and not empty. Values: every integer type and enum as eight bytes
 * big-endian (signed types sign-extended, unsigned ones zero-extended), bool as one byte, float
 * and double as their IEEE-754 bits big-endian, string (UTF-8) and bytes as a u32 length and the
 * bytes, a nested message as a u32 length and its encoding, a repeated field as a u32 count and
 * its values, a map as a u32 count and its entries (key, value) sorted by the key's encoding.
 *
 * <p>At the top level the field {@code auth} of type {@code murmur.v1.Auth} is left out: it holds
 * the signature. A message holding fields unknown to its schema is refused
 * (IllegalArgumentException): what the signer meant by them cannot be known. Stateless.
 */
public final class CanonicalPayload {
    /** Full name of the signature block every signed request carries in its {@code auth} field. */
    static final String AUTH_TYPE = "murmur.v1.Auth";

    private CanonicalPayload() {
    }

    /** SHA-256 of {@link #encode(MessageOrBuilder)}: the digest a {@link CanonicalRequest} carries. */
    public static byte[] digest(MessageOrBuilder message) {
        return NodeId.sha256(encode(message));
    }

    /** The canonical encoding of {@code message} without its top-level {@code auth} field. */
    public static byte[] encode(MessageOrBuilder message) {
        CanonicalWriter out = new CanonicalWriter();
        writeFields(out, message, true);
        return out.toByteArray();
    }

    private static void writeFields(CanonicalWriter out, MessageOrBuilder message, boolean topLevel) {
        if (!message.getUnknownFields().asMap().isEmpty()) {
            throw new IllegalArgumentException(message.getDescriptorForType().getFullName()
                    + " holds fields unknown to this schema (field numbers "
                    + message.getUnknownFields().asMap().keySet() + "); it cannot be signed or verified");
        }
        List<Map.Entry<FieldDescriptor, Object>> fields = new ArrayList<>(message.getAllFields().entrySet());
        fields.sort(Comparator.comparingInt(e -> e.getKey().getNumber()));
        for (Map.Entry<FieldDescriptor, Object> entry : fields) {
            FieldDescriptor field = entry.getKey();
            if (topLevel && isAuth(field)) {
                continue;
            }
            out.u32(field.getNumber());
            if (field.isMapField()) {
                writeMap(out, field, (List<?>) entry.getValue());
            } else if (field.isRepeated()) {
                List<?> values = (List<?>) entry.getValue();
                out.u32(values.size());
                for (Object value : values) {
                    writeValue(out, field, value);
                }
            } else {
                writeValue(out, field, entry.getValue());
            }
        }
    }

    private static boolean isAuth(FieldDescriptor field) {
        return field.getName().equals("auth")
                && field.getJavaType() == FieldDescriptor.JavaType.MESSAGE
                && !field.isRepeated()
                && field.getMessageType().getFullName().equals(AUTH_TYPE);
    }

    private static void writeMap(CanonicalWriter out, FieldDescriptor field, List<?> entries) {
        FieldDescriptor keyField = field.getMessageType().findFieldByNumber(1);
        FieldDescriptor valueField = field.getMessageType().findFieldByNumber(2);
        List<byte[][]> encoded = new ArrayList<>(entries.size());
        for (Object entry : entries) {
            MessageOrBuilder pair = (MessageOrBuilder) entry;
            CanonicalWriter key = new CanonicalWriter();
            writeValue(key, keyField, pair.getField(keyField));
            CanonicalWriter value = new CanonicalWriter();
            writeValue(value, valueField, pair.getField(valueField));
            encoded.add(new byte[][] {key.toByteArray(), value.toByteArray()});
        }
        encoded.sort((a, b) -> Arrays.compareUnsigned(a[0], b[0]));
        out.u32(encoded.size());
        for (byte[][] pair : encoded) {
            out.raw(pair[0]).raw(pair[1]);
        }
    }

    private static void writeValue(CanonicalWriter out, FieldDescriptor field, Object value) {
        switch (field.getJavaType()) {
            case INT -> {
                int v = (Integer) value;
                boolean unsigned = field.getType() == FieldDescriptor.Type.UINT32
                        || field.getType() == FieldDescriptor.Type.FIXED32;
                out.u64(unsigned ? Integer.toUnsignedLong(v) : v);
            }
            case LONG -> out.u64((Long) value);
            case BOOLEAN -> out.u8((Boolean) value ? 1 : 0);
            case FLOAT -> out.u32(Float.floatToRawIntBits((Float) value));
            case DOUBLE -> out.u64(Double.doubleToRawLongBits((Double) value));
            case STRING -> out.string((String) value);
            case BYTE_STRING -> out.bytes(((ByteString) value).asReadOnlyByteBuffer());
            case ENUM -> out.u64(((EnumValueDescriptor) value).getNumber());
            case MESSAGE -> {
                CanonicalWriter nested = new CanonicalWriter();
                writeFields(nested, (MessageOrBuilder) value, false);
                out.bytes(nested.toByteArray());
            }
            default -> throw new IllegalStateException("unhandled field type " + field.getJavaType());
        }
    }
}
