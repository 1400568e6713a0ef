package org.murmur.bench.fl;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * One IDX file of unsigned bytes, read whole and checked strictly: the magic number (two zero
 * bytes, type 0x08, the expected number of dimensions), positive dimensions, and exactly as many
 * data bytes as the dimensions call for. A file whose name ends in {@code .gz} is gunzipped first.
 */
record IdxFile(int[] dimensions, byte[] data) {
    private static final int UNSIGNED_BYTE = 0x08;

    static IdxFile read(Path file, int expectedDimensions) throws IOException {
        try {
            return parse(file, expectedDimensions);
        } catch (ZipException | EOFException e) {
            throw new IdxFormatException(file, "not a valid gzip stream: " + e.getMessage());
        }
    }

    private static IdxFile parse(Path file, int expectedDimensions) throws IOException {
        try (InputStream raw = Files.newInputStream(file);
             InputStream in = new BufferedInputStream(
                     file.getFileName().toString().endsWith(".gz") ? new GZIPInputStream(raw, 1 << 16) : raw, 1 << 16)) {
            byte[] magic = readExactly(file, in, 4, "the 4-byte magic number");
            if (magic[0] != 0 || magic[1] != 0 || magic[2] != UNSIGNED_BYTE || magic[3] != expectedDimensions) {
                throw new IdxFormatException(file, String.format(
                        "bad magic number %02x %02x %02x %02x: expected 00 00 %02x %02x (unsigned bytes, %d dimensions)",
                        magic[0], magic[1], magic[2], magic[3], UNSIGNED_BYTE, expectedDimensions, expectedDimensions));
            }
            int[] dimensions = new int[expectedDimensions];
            long size = 1;
            byte[] header = readExactly(file, in, 4 * expectedDimensions, "the dimensions");
            for (int i = 0; i < expectedDimensions; i++) {
                dimensions[i] = (header[4 * i] & 0xFF) << 24 | (header[4 * i + 1] & 0xFF) << 16
                        | (header[4 * i + 2] & 0xFF) << 8 | (header[4 * i + 3] & 0xFF);
                if (dimensions[i] <= 0) {
                    throw new IdxFormatException(file, "dimension " + i + " is " + dimensions[i] + ", not positive");
                }
                size *= dimensions[i];
            }
            if (size > Integer.MAX_VALUE - 8) {
                throw new IdxFormatException(file, "dimensions " + Arrays.toString(dimensions) + " hold " + size
                        + " bytes, more than an array can");
            }
            byte[] data = readExactly(file, in, (int) size, "the " + size + " data bytes of dimensions "
                    + Arrays.toString(dimensions));
            if (in.read() != -1) {
                throw new IdxFormatException(file, "trailing bytes after the " + size + " data bytes of dimensions "
                        + Arrays.toString(dimensions));
            }
            return new IdxFile(dimensions, data);
        }
    }

    private static byte[] readExactly(Path file, InputStream in, int count, String what) throws IOException {
        byte[] bytes = in.readNBytes(count);
        if (bytes.length != count) {
            throw new IdxFormatException(file, "truncated: the file ends " + bytes.length + " bytes into " + what);
        }
        return bytes;
    }
}
