package org.murmur.bench.fl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IdxFileTest {
    @TempDir
    Path dir;

    /** Two 2x3 images: the golden bytes of an IDX3 file. */
    private static final byte[] IMAGES = {
        0, 0, 8, 3,
        0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 3,
        0, 1, 2, 3, 4, 5,
        (byte) 255, (byte) 254, 51, 0, 0, 7,
    };
    private static final byte[] LABELS = {0, 0, 8, 1, 0, 0, 0, 3, 9, 0, 4};

    @Test
    void readsGoldenImagesAndLabels() throws IOException {
        IdxFile images = IdxFile.read(write("images", IMAGES), 3);
        assertArrayEquals(new int[] {2, 2, 3}, images.dimensions());
        assertArrayEquals(Arrays.copyOfRange(IMAGES, 16, 28), images.data());
        IdxFile labels = IdxFile.read(write("labels", LABELS), 1);
        assertArrayEquals(new int[] {3}, labels.dimensions());
        assertArrayEquals(new byte[] {9, 0, 4}, labels.data());
    }

    @Test
    void gunzipsFilesEndingInGz() throws IOException {
        Path file = dir.resolve("images.gz");
        try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(file))) {
            out.write(IMAGES);
        }
        assertArrayEquals(Arrays.copyOfRange(IMAGES, 16, 28), IdxFile.read(file, 3).data());
    }

    @Test
    void refusesABadMagicNumberNamingTheFile() throws IOException {
        byte[] wrongType = IMAGES.clone();
        wrongType[2] = 0x0D;
        assertRefused(write("type", wrongType), 3, "bad magic number 00 00 0d 03");
        assertRefused(write("dims", IMAGES), 1, "bad magic number 00 00 08 03");
        byte[] nonZero = LABELS.clone();
        nonZero[0] = 1;
        assertRefused(write("lead", nonZero), 1, "bad magic number 01 00 08 01");
    }

    @Test
    void refusesWrongSizesNamingTheFile() throws IOException {
        assertRefused(write("short", Arrays.copyOf(IMAGES, IMAGES.length - 1)), 3, "truncated");
        assertRefused(write("long", Arrays.copyOf(IMAGES, IMAGES.length + 1)), 3, "trailing bytes");
        assertRefused(write("header", Arrays.copyOf(IMAGES, 10)), 3, "truncated");
        byte[] zero = IMAGES.clone();
        zero[7] = 0;
        assertRefused(write("zero", zero), 3, "dimension 0 is 0");
    }

    @Test
    void refusesACorruptGzipNamingTheFile() throws IOException {
        assertRefused(write("plain.gz", IMAGES), 3, "not a valid gzip stream");
    }

    private Path write(String name, byte[] bytes) throws IOException {
        return Files.write(dir.resolve(name), bytes);
    }

    private static void assertRefused(Path file, int dimensions, String problem) {
        IdxFormatException e = assertThrows(IdxFormatException.class, () -> IdxFile.read(file, dimensions));
        assertTrue(e.getMessage().startsWith(file + ": "), e.getMessage());
        assertTrue(e.getMessage().contains(problem), e.getMessage());
    }
}
