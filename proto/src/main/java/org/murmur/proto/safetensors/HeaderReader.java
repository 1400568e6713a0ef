package org.murmur.proto.safetensors;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * Reads the length prefix and the header text of a safetensors file. Guarantees a header length
 * in {@code [1, min(fileSize - 8, MAX_HEADER_BYTES)]} and text that was valid UTF-8.
 */
final class HeaderReader {
    /** The official library's limit; it also bounds what a hostile length can make us allocate. */
    static final long MAX_HEADER_BYTES = 100_000_000L;
    static final int LENGTH_FIELD_BYTES = 8;

    /** The header text, its length in bytes, and the file size it was read against. */
    record RawHeader(String json, long headerLength, long fileSize) {
        long dataStart() {
            return LENGTH_FIELD_BYTES + headerLength;
        }
    }

    private HeaderReader() {
    }

    static RawHeader read(Path path, FileChannel channel) throws IOException {
        long fileSize = channel.size();
        if (fileSize < LENGTH_FIELD_BYTES) {
            throw new SafetensorsException(path, "truncated: the file is " + fileSize
                    + " bytes, shorter than the 8-byte header length field");
        }
        long headerLength = readFully(channel, 0, LENGTH_FIELD_BYTES).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        long available = fileSize - LENGTH_FIELD_BYTES;
        if (headerLength == 0) {
            throw new SafetensorsException(path, "header length is 0; a header holds at least a JSON object");
        }
        // A u64 above Long.MAX_VALUE reads as negative: it is just as impossibly long.
        if (headerLength < 0 || headerLength > available) {
            throw new SafetensorsException(path, "truncated: header length " + Long.toUnsignedString(headerLength)
                    + " is larger than the " + available + " bytes after the length field");
        }
        if (headerLength > MAX_HEADER_BYTES) {
            throw new SafetensorsException(path, "header length " + headerLength
                    + " exceeds the limit of " + MAX_HEADER_BYTES + " bytes");
        }
        ByteBuffer header = readFully(channel, LENGTH_FIELD_BYTES, (int) headerLength);
        return new RawHeader(decodeUtf8(path, header), headerLength, fileSize);
    }

    private static String decodeUtf8(Path path, ByteBuffer bytes) {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(bytes)
                    .toString();
        } catch (CharacterCodingException e) {
            throw new SafetensorsException(path, null, "header is not valid UTF-8", e);
        }
    }

    private static ByteBuffer readFully(FileChannel channel, long position, int length) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(length);
        while (buffer.hasRemaining()) {
            if (channel.read(buffer, position + buffer.position()) < 0) {
                throw new EOFException("file shrank while its header was read");
            }
        }
        return buffer.flip();
    }
}
