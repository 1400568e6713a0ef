package org.murmur.bench.fl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FashionMnistTest {
    @TempDir
    Path dir;

    @Test
    void loadsADirectoryOfPlainAndGzippedFilesNormalizingPixels() throws IOException {
        writeImages("train-images-idx3-ubyte.gz", 3, true);
        writeLabels("train-labels-idx1-ubyte", new byte[] {0, 9, 4}, false);
        writeImages("t10k-images-idx3-ubyte", 2, false);
        writeLabels("t10k-labels-idx1-ubyte.gz", new byte[] {7, 7}, true);

        FashionMnist data = FashionMnist.load(dir);

        assertEquals(3, data.train().size());
        assertEquals(2, data.test().size());
        assertEquals(FashionMnist.PIXELS, data.train().features());
        assertEquals(9, data.train().label(1));
        assertEquals(7, data.test().label(0));
        float[] pixels = new float[FashionMnist.PIXELS];
        data.train().copyFeatures(2, pixels, 0);
        assertEquals(0f, pixels[0]);
        assertEquals(51 / 255f, pixels[51]);
        assertEquals(1f, pixels[255]);
        for (float pixel : pixels) {
            assertTrue(pixel >= 0f && pixel <= 1f);
        }
    }

    @Test
    void namesThePackageAndTheCommandWhenFilesAreMissing() throws IOException {
        writeImages("train-images-idx3-ubyte", 1, false);
        FashionMnistMissingException e = assertThrows(FashionMnistMissingException.class, () -> FashionMnist.load(dir));
        assertTrue(e.getMessage().contains("train-labels-idx1-ubyte"), e.getMessage());
        assertTrue(e.getMessage().contains("dataset-fashion-mnist"), e.getMessage());
        assertTrue(e.getMessage().contains("`apt-get install dataset-fashion-mnist`"), e.getMessage());
    }

    @Test
    void refusesLabelsThatDoNotMatchTheImages() throws IOException {
        writeImages("train-images-idx3-ubyte", 3, false);
        writeLabels("train-labels-idx1-ubyte", new byte[] {1, 2}, false);
        writeImages("t10k-images-idx3-ubyte", 1, false);
        writeLabels("t10k-labels-idx1-ubyte", new byte[] {1}, false);
        IdxFormatException count = assertThrows(IdxFormatException.class, () -> FashionMnist.load(dir));
        assertTrue(count.getMessage().startsWith(dir.resolve("train-labels-idx1-ubyte") + ": 2 labels for the 3 images"),
                count.getMessage());

        writeLabels("train-labels-idx1-ubyte", new byte[] {1, 2, 10}, false);
        IdxFormatException range = assertThrows(IdxFormatException.class, () -> FashionMnist.load(dir));
        assertTrue(range.getMessage().endsWith("label 2 is 10, not below 10"), range.getMessage());
    }

    @Test
    void refusesImagesThatAreNot28By28() throws IOException {
        ByteBuffer idx = ByteBuffer.allocate(16 + 27 * 28).putInt(0x0803).putInt(1).putInt(27).putInt(28);
        Path images = Files.write(dir.resolve("train-images-idx3-ubyte"), idx.array());
        writeLabels("train-labels-idx1-ubyte", new byte[] {1}, false);
        writeImages("t10k-images-idx3-ubyte", 1, false);
        writeLabels("t10k-labels-idx1-ubyte", new byte[] {1}, false);
        IdxFormatException e = assertThrows(IdxFormatException.class, () -> FashionMnist.load(dir));
        assertEquals(images + ": images are 27x28, not 28x28", e.getMessage());
    }

    /** Every image has pixel p equal to min(p, 255). */
    private void writeImages(String name, int count, boolean gzip) throws IOException {
        ByteBuffer idx = ByteBuffer.allocate(16 + count * FashionMnist.PIXELS)
                .putInt(0x0803).putInt(count).putInt(28).putInt(28);
        for (int i = 0; i < count; i++) {
            for (int p = 0; p < FashionMnist.PIXELS; p++) {
                idx.put((byte) Math.min(255, p));
            }
        }
        write(name, idx.array(), gzip);
    }

    private void writeLabels(String name, byte[] labels, boolean gzip) throws IOException {
        ByteBuffer idx = ByteBuffer.allocate(8 + labels.length).putInt(0x0801).putInt(labels.length).put(labels);
        write(name, idx.array(), gzip);
    }

    private void write(String name, byte[] bytes, boolean gzip) throws IOException {
        try (OutputStream out = gzip ? new GZIPOutputStream(Files.newOutputStream(dir.resolve(name)))
                : Files.newOutputStream(dir.resolve(name))) {
            out.write(bytes);
        }
    }
}
