package org.murmur.proto.identity;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The primitive encodings shared by {@link CanonicalRequest} and {@link CanonicalPayload}: fixed
 * width big-endian integers and length-prefixed byte strings (u32 big-endian length, then the
 * bytes). Every variable-length item carries its length, so no two sequences of items share an
 * encoding. Not thread-safe; one per encoding.
 */
final class CanonicalWriter {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream(256);

    CanonicalWriter u8(int value) {
        out.write(value);
        return this;
    }

    CanonicalWriter u32(int value) {
        out.write(value >>> 24);
        out.write(value >>> 16);
        out.write(value >>> 8);
        out.write(value);
        return this;
    }

    /** Eight bytes big-endian: a u64 (Java's long read as unsigned) or an i64 in two's complement. */
    CanonicalWriter u64(long value) {
        for (int shift = 56; shift >= 0; shift -= 8) {
            out.write((int) (value >>> shift));
        }
        return this;
    }

    /** The bytes as they are, without a length: only for items that are already self-delimiting. */
    CanonicalWriter raw(byte[] value) {
        out.write(value, 0, value.length);
        return this;
    }

    CanonicalWriter bytes(byte[] value) {
        u32(value.length);
        out.write(value, 0, value.length);
        return this;
    }

    CanonicalWriter bytes(ByteBuffer value) {
        ByteBuffer copy = value.duplicate();
        u32(copy.remaining());
        byte[] chunk = new byte[Math.min(copy.remaining(), 8192)];
        while (copy.hasRemaining()) {
            int n = Math.min(chunk.length, copy.remaining());
            copy.get(chunk, 0, n);
            out.write(chunk, 0, n);
        }
        return this;
    }

    /** Length-prefixed strict UTF-8; a string with an unpaired surrogate is refused, not replaced. */
    CanonicalWriter string(String value) {
        return bytes(utf8(value));
    }

    static byte[] utf8(String value) {
        try {
            ByteBuffer encoded = StandardCharsets.UTF_8.newEncoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .encode(java.nio.CharBuffer.wrap(value));
            return Arrays.copyOfRange(encoded.array(), encoded.arrayOffset() + encoded.position(),
                    encoded.arrayOffset() + encoded.limit());
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("string is not valid Unicode (unpaired surrogate)", e);
        }
    }

    byte[] toByteArray() {
        return out.toByteArray();
    }
}
