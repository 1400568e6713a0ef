package org.murmur.kernels.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.murmur.kernels.api.ElementType;
import org.murmur.kernels.api.InvalidInputException;
import org.murmur.kernels.api.UpdateBatch;
import org.murmur.kernels.testing.Batches.Dtypes;
import org.murmur.kernels.testing.Batches.Layout;
import org.murmur.kernels.testing.Batches.TensorSpec;
import org.murmur.kernels.testing.Batches;
import org.murmur.kernels.testing.RandomUpdates;
import org.murmur.kernels.testing.SeedReporter;
import org.murmur.kernels.testing.SeededRandom;

/**
 * The staging layout the kernels read, checked on the host: every staged tile, read back through
 * its descriptors as murmur_math.cuh's load_element reads it, holds exactly what the batch decodes,
 * whatever the tensor boundaries, chunking and element types; rows keep their stored type when
 * they can; and the sizes the pipeline relies on hold.
 */
@ExtendWith(SeedReporter.class)
class TileStagerTest {

    /** Reads a staged tile as load_element does: descriptor, offset, element code. */
    static float[][] readBack(ByteBuffer tile, int rows, int width) {
        ByteBuffer in = tile.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        float[][] values = new float[rows][width];
        for (int r = 0; r < rows; r++) {
            int descriptor = in.getInt(4 * r);
            int offset = descriptor & ~(TileStager.ALIGNMENT - 1);
            int code = descriptor & (TileStager.ALIGNMENT - 1);
            for (int x = 0; x < width; x++) {
                values[r][x] = switch (code) {
                    case 0 -> in.getFloat(offset + 4 * x);
                    case 1 -> ElementType.f16ToFloat(in.getShort(offset + 2 * x));
                    case 2 -> ElementType.bf16ToFloat(in.getShort(offset + 2 * x));
                    default -> throw new AssertionError("element code " + code + " of row " + r);
                };
            }
        }
        return values;
    }

    static Stream<Arguments> layouts() {
        return Stream.of(
                Arguments.of("one tensor, F32", 1, 0),
                Arguments.of("many tensors, types mixed per tensor", 2, 0),
                Arguments.of("many tensors, types mixed per tensor, chunks of 7", 2, 7),
                Arguments.of("many tensors, one type per update, chunks of 5", 3, 5),
                Arguments.of("empty tensors, F16", 4, 3));
    }

    private static Batches.Built batch(SeededRandom random, int kind, int chunks) {
        int n = 5;
        int d = 211;
        Layout layout = switch (kind) {
            case 1 -> Layout.single(d);
            case 4 -> Layout.of(new TensorSpec("w", new long[] {7, 10}), new TensorSpec("empty", new long[] {0}),
                    new TensorSpec("b", new long[0]), new TensorSpec("z.empty", new long[] {2, 0}), new TensorSpec("v", new long[] {140}));
            default -> Layout.multi(d, random);
        };
        Dtypes types = switch (kind) {
            case 2 -> Dtypes.mixed();
            case 3 -> Dtypes.perUpdate(ElementType.BF16, ElementType.F32, ElementType.F16);
            case 4 -> Dtypes.all(ElementType.F16);
            default -> Dtypes.all(ElementType.F32);
        };
        double[][] values = RandomUpdates.draw(random, n, layout.dimension(), 1);
        return Batches.builder(values, layout).dtypes(types).chunkElements(chunks).build();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("layouts")
    void stagedTilesReadBackAsTheBatchDecodes(String name, int kind, int chunks) {
        SeededRandom random = SeededRandom.forCase("staged tiles " + name);
        Batches.Built built = batch(random, kind, chunks);
        UpdateBatch batch = built.batch();
        int[] rows = {3, 0, 4, 1};
        TileStager stager = new TileStager(batch, rows);
        for (int width : new int[] {1, 7, 16, 33, 64, (int) batch.dimension()}) {
            ByteBuffer slot = ByteBuffer.allocate((int) TileStager.tileBytes(rows.length, width));
            for (long start = 0; start < batch.dimension(); start += width) {
                int length = (int) Math.min(width, batch.dimension() - start);
                int bytes = stager.stage(start, length, slot);
                assertTrue(bytes <= TileStager.tileBytes(rows.length, length), "the tile fits its bound " + random.where());
                float[][] staged = readBack(slot, rows.length, length);
                for (int r = 0; r < rows.length; r++) {
                    int update = rows[r];
                    float[] expected = new float[length];
                    batch.decode(update, start, length, expected, 0);
                    for (int x = 0; x < length; x++) {
                        long coordinate = start + x;
                        assertEquals(Float.floatToRawIntBits(expected[x]), Float.floatToRawIntBits(staged[r][x]),
                                () -> name + ": update " + update + " coordinate " + coordinate + " tile " + width + " " + random.where());
                    }
                }
            }
        }
    }

    @Test
    void rowsOfOneTypeKeepItAndMixedRowsBecomeF32() {
        SeededRandom random = SeededRandom.forCase("staged types");
        Layout layout = Layout.of(new TensorSpec("a", new long[] {8}), new TensorSpec("b", new long[] {8}));
        double[][] values = RandomUpdates.draw(random, 2, 16, 0);
        // Update 0: a F16, b BF16; update 1: both BF16.
        UpdateBatch batch = Batches.builder(values, layout)
                .dtypes((u, t) -> u == 1 || t == 1 ? ElementType.BF16 : ElementType.F16).build().batch();
        TileStager stager = new TileStager(batch, new int[] {0, 1});
        ByteBuffer slot = ByteBuffer.allocate((int) TileStager.tileBytes(2, 16)).order(ByteOrder.LITTLE_ENDIAN);

        stager.stage(0, 8, slot);
        assertEquals(TileStager.code(ElementType.F16), slot.getInt(0) & 15, "update 0 within tensor a");
        assertEquals(TileStager.code(ElementType.BF16), slot.getInt(4) & 15, "update 1 within tensor a");

        stager.stage(4, 8, slot);
        assertEquals(TileStager.code(ElementType.F32), slot.getInt(0) & 15, "update 0 across a (F16) and b (BF16)");
        assertEquals(TileStager.code(ElementType.BF16), slot.getInt(4) & 15, "update 1 across a and b, both BF16");
        for (int r = 0; r < 2; r++) {
            assertEquals(0, (slot.getInt(4 * r) & ~15) % TileStager.ALIGNMENT, "row " + r + " is aligned");
        }
    }

    @Test
    void theWidestTileFitsItsSlot() {
        for (int rows : new int[] {1, 2, 3, 37, 1000}) {
            for (long slot : new long[] {64, 1000, 1 << 20, 64L << 20}) {
                int width = TileStager.widthFor(rows, slot);
                if (width > 0) {
                    assertTrue(TileStager.tileBytes(rows, width) <= slot, rows + " rows of " + width + " in " + slot + " bytes");
                }
                assertTrue(TileStager.tileBytes(rows, width + 4) > slot, "the next aligned width does not fit: " + rows + " rows, " + slot);
            }
        }
    }

    @Test
    void requireFiniteNamesTheUpdateAndTensor() {
        SeededRandom random = SeededRandom.forCase("staged non-finite");
        Layout layout = Layout.multi(50, random);
        Batches.Built built = Batches.builder(RandomUpdates.draw(random, 3, 50, 0), layout).dtypes(Dtypes.mixed())
                .inject(2, 41, Float.NaN).build();
        TileStager clean = new TileStager(built.batch(), new int[] {0, 1});
        clean.requireFinite();
        TileStager dirty = new TileStager(built.batch(), new int[] {0, 2});
        InvalidInputException e = assertThrows(InvalidInputException.class, dirty::requireFinite);
        assertTrue(e.getMessage().contains(built.updates().get(2).label()), e.getMessage());
    }
}
