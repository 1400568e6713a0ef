package org.murmur.kernels.testing;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;
import org.murmur.kernels.api.ElementType;
import org.murmur.kernels.api.TensorData;
import org.murmur.kernels.api.Update;
import org.murmur.kernels.api.UpdateBatch;

/**
 * Builds {@link UpdateBatch}es from {@code double[n][d]} as a reader of real files would hand
 * them over: the d coordinates split into named tensors of various shapes (a 0-d tensor and a
 * non-ASCII name among them, given in an order that is not the data order), each update's bytes in
 * one direct little-endian buffer with the tensors in reverse order and 0xFF (NaN) filler between
 * them, optionally one tensor split over several chunks. Values are first rounded to what the
 * chosen element types can hold exactly, and those decoded values are what the reference must see.
 */
public final class Batches {
    /** Bytes of NaN filler between tensors and chunks: a read past a chunk's end meets a NaN. */
    private static final int GAP = 8;

    private Batches() {
    }

    /** A tensor's name and shape. */
    public record TensorSpec(String name, long[] shape) {
        public TensorSpec {
            shape = shape.clone();
        }

        public long count() {
            return TensorData.elementCount(shape);
        }

        @Override
        public long[] shape() {
            return shape.clone();
        }

        @Override
        public String toString() {
            return name + Arrays.toString(shape);
        }
    }

    /** How the d coordinates of an update are split into tensors. Immutable. */
    public static final class Layout {
        private final List<TensorSpec> given;
        private final List<TensorSpec> sorted;
        private final Map<String, Integer> starts = new HashMap<>();
        private final int dimension;

        private Layout(List<TensorSpec> given) {
            this.given = List.copyOf(given);
            List<TensorSpec> s = new ArrayList<>(given);
            s.sort(Comparator.comparing(TensorSpec::name));
            this.sorted = List.copyOf(s);
            long at = 0;
            for (TensorSpec t : sorted) {
                starts.put(t.name(), (int) at);
                at += t.count();
            }
            this.dimension = Math.toIntExact(at);
        }

        public static Layout of(TensorSpec... tensors) {
            return new Layout(List.of(tensors));
        }

        /** One tensor {@code weight} of shape [d]. */
        public static Layout single(int d) {
            return of(new TensorSpec("weight", new long[] {d}));
        }

        /** One 0-d tensor: d = 1. */
        public static Layout scalar() {
            return of(new TensorSpec("temperature", new long[0]));
        }

        /**
         * Several tensors holding d coordinates: a 0-d tensor, a 2-D one, a 1-D one and one with a
         * non-ASCII name, listed out of name order (fewer when d is small; d = 1 is the 0-d tensor).
         */
        public static Layout multi(int d, SeededRandom random) {
            if (d < 1) {
                throw new IllegalArgumentException("d " + d);
            }
            TensorSpec scalar = new TensorSpec("temperature", new long[0]);
            if (d == 1) {
                return of(scalar);
            }
            if (d == 2) {
                return of(new TensorSpec("ünïcødé.γ", new long[] {1}), scalar);
            }
            if (d == 3) {
                return of(new TensorSpec("ünïcødé.γ", new long[] {1, 1}), scalar, new TensorSpec("bias", new long[] {1}));
            }
            int rest = d - 1;
            int a = 1 + random.nextInt(rest - 2);
            int b = 1 + random.nextInt(rest - a - 1);
            int c = rest - a - b;
            return of(new TensorSpec("layer.0.weight", matrix(a)), new TensorSpec("ünïcødé.γ", new long[] {1, c}),
                    scalar, new TensorSpec("bias", new long[] {b}));
        }

        /** A 2-D shape of {@code count} elements, [1, count] when it is prime. */
        static long[] matrix(int count) {
            int rows = (int) Math.sqrt(count);
            while (count % rows != 0) {
                rows--;
            }
            return new long[] {rows, count / rows};
        }

        /** The tensors in the order they are handed to {@link Update} (not the data order). */
        public List<TensorSpec> given() {
            return given;
        }

        /** The tensors in data order (sorted by name). */
        public List<TensorSpec> sorted() {
            return sorted;
        }

        /** The first coordinate of the named tensor in the update vector. */
        public int start(String name) {
            Integer s = starts.get(name);
            if (s == null) {
                throw new IllegalArgumentException("no tensor " + name);
            }
            return s;
        }

        /** The tensor holding {@code coordinate}. */
        public TensorSpec tensorAt(int coordinate) {
            for (TensorSpec t : sorted) {
                int s = start(t.name());
                if (coordinate >= s && coordinate < s + t.count()) {
                    return t;
                }
            }
            throw new IndexOutOfBoundsException("coordinate " + coordinate + " of " + dimension);
        }

        public int dimension() {
            return dimension;
        }

        @Override
        public String toString() {
            return given.toString();
        }
    }

    /** The element type of each tensor of each update. */
    @FunctionalInterface
    public interface Dtypes {
        ElementType of(int update, int tensorInDataOrder);

        static Dtypes all(ElementType type) {
            return (u, t) -> type;
        }

        /** F32, F16 and BF16 in turn across updates and tensors. */
        static Dtypes mixed() {
            ElementType[] types = ElementType.values();
            return (u, t) -> types[(u + t) % types.length];
        }

        /** One type per update (per file), in turn. */
        static Dtypes perUpdate(ElementType... types) {
            return (u, t) -> types[u % types.length];
        }
    }

    /** The label of update i: {@code u<i>.safetensors}. */
    public static String label(int i) {
        return "u" + i + ".safetensors";
    }

    public static Builder builder(double[][] values, Layout layout) {
        return new Builder(values, layout);
    }

    /** A batch of F32 updates with one tensor each. */
    public static Built f32(double[][] values) {
        return builder(values, Layout.single(values[0].length)).build();
    }

    /** A built batch and the exact (decoded) values it holds. */
    public record Built(UpdateBatch batch, double[][] values, Layout layout, List<Update> updates) {
    }

    /** Assembles a batch; see {@link Batches}. */
    public static final class Builder {
        private final double[][] raw;
        private final Layout layout;
        private Dtypes dtypes = Dtypes.all(ElementType.F32);
        private int chunkElements;
        private IntFunction<String> labels = Batches::label;
        private final List<int[]> injectedAt = new ArrayList<>();
        private final List<Float> injected = new ArrayList<>();

        private Builder(double[][] raw, Layout layout) {
            for (double[] row : raw) {
                if (row.length != layout.dimension()) {
                    throw new IllegalArgumentException("rows of " + row.length + " values for a layout of " + layout.dimension());
                }
            }
            this.raw = raw;
            this.layout = layout;
        }

        public Builder dtype(ElementType type) {
            return dtypes(Dtypes.all(type));
        }

        public Builder dtypes(Dtypes policy) {
            this.dtypes = policy;
            return this;
        }

        /** Splits every tensor of more than {@code elements} elements into chunks of that many. */
        public Builder chunkElements(int elements) {
            this.chunkElements = elements;
            return this;
        }

        public Builder labels(IntFunction<String> labelOf) {
            this.labels = labelOf;
            return this;
        }

        /** Stores {@code value} (NaN, an infinity) at a coordinate of an update, in that tensor's type. */
        public Builder inject(int update, int coordinate, float value) {
            injectedAt.add(new int[] {update, coordinate});
            injected.add(value);
            return this;
        }

        public Built build() {
            double[][] values = representable(raw, layout, dtypes);
            List<Update> updates = new ArrayList<>();
            for (int i = 0; i < values.length; i++) {
                float[] row = new float[layout.dimension()];
                for (int j = 0; j < row.length; j++) {
                    row[j] = (float) values[i][j];
                }
                for (int k = 0; k < injected.size(); k++) {
                    if (injectedAt.get(k)[0] == i) {
                        row[injectedAt.get(k)[1]] = injected.get(k);
                        values[i][injectedAt.get(k)[1]] = injected.get(k);
                    }
                }
                updates.add(update(labels.apply(i), row, layout, i, dtypes, chunkElements));
            }
            return new Built(new UpdateBatch(updates), values, layout, List.copyOf(updates));
        }
    }

    /** The values rounded to float32 and then to each tensor's type, decoded back; all finite. */
    public static double[][] representable(double[][] raw, Layout layout, Dtypes dtypes) {
        double[][] out = new double[raw.length][];
        for (int i = 0; i < raw.length; i++) {
            out[i] = new double[raw[i].length];
            for (int t = 0; t < layout.sorted().size(); t++) {
                TensorSpec spec = layout.sorted().get(t);
                ElementType type = dtypes.of(i, t);
                int s = layout.start(spec.name());
                for (int j = s; j < s + spec.count(); j++) {
                    float v = round(type, (float) raw[i][j]);
                    if (!Float.isFinite(v)) {
                        throw new IllegalArgumentException("generated value " + raw[i][j] + " does not fit " + type);
                    }
                    out[i][j] = v;
                }
            }
        }
        return out;
    }

    /** {@code value} rounded to {@code type} and widened back to float32. */
    public static float round(ElementType type, float value) {
        return switch (type) {
            case F32 -> value;
            case F16 -> ElementType.f16ToFloat(ElementType.floatToF16(value));
            case BF16 -> ElementType.bf16ToFloat(ElementType.floatToBf16(value));
        };
    }

    /**
     * One update holding {@code row} (which must be exactly representable) in {@code layout}, its
     * tensors of the types {@code dtypes} gives for update index {@code index}.
     */
    public static Update update(String label, float[] row, Layout layout, int index, Dtypes dtypes, int chunkElements) {
        List<TensorSpec> given = layout.given();
        ElementType[] types = new ElementType[given.size()];
        long[][] chunkCounts = new long[given.size()][];
        long[] perChunk = new long[given.size()];
        int total = 0;
        for (int g = 0; g < given.size(); g++) {
            TensorSpec spec = given.get(g);
            types[g] = dtypes.of(index, layout.sorted().indexOf(spec));
            long count = spec.count();
            perChunk[g] = chunkElements > 0 && count > chunkElements ? chunkElements : Math.max(1, count);
            int chunks = count == 0 ? 1 : (int) ((count + perChunk[g] - 1) / perChunk[g]);
            chunkCounts[g] = new long[chunks];
            for (int c = 0; c < chunks; c++) {
                chunkCounts[g][c] = Math.min(perChunk[g], count - c * perChunk[g]);
                total += align(chunkCounts[g][c] * types[g].byteSize()) + GAP;
            }
        }
        ByteBuffer all = ByteBuffer.allocateDirect(total + GAP).order(ByteOrder.LITTLE_ENDIAN);
        while (all.hasRemaining()) {
            all.put((byte) 0xff);
        }
        int at = GAP;
        TensorData[] tensors = new TensorData[given.size()];
        for (int g = given.size() - 1; g >= 0; g--) {
            TensorSpec spec = given.get(g);
            int first = layout.start(spec.name());
            ByteBuffer[] chunks = new ByteBuffer[chunkCounts[g].length];
            long written = 0;
            for (int c = 0; c < chunks.length; c++) {
                int bytes = (int) (chunkCounts[g][c] * types[g].byteSize());
                ByteBuffer chunk = all.duplicate().order(ByteOrder.LITTLE_ENDIAN);
                chunk.position(at).limit(at + bytes);
                chunk = chunk.slice().order(ByteOrder.LITTLE_ENDIAN);
                for (int e = 0; e < chunkCounts[g][c]; e++) {
                    float v = row[(int) (first + written + e)];
                    switch (types[g]) {
                        case F32 -> chunk.putFloat(v);
                        case F16 -> chunk.putShort(ElementType.floatToF16(v));
                        case BF16 -> chunk.putShort(ElementType.floatToBf16(v));
                    }
                }
                chunk.flip();
                chunks[c] = chunk;
                written += chunkCounts[g][c];
                at += align(bytes) + GAP;
            }
            tensors[g] = new TensorData(spec.name(), types[g], spec.shape(), chunks, perChunk[g]);
        }
        return new Update(label, List.of(tensors));
    }

    private static int align(long bytes) {
        return (int) ((bytes + 7) & ~7L);
    }

    // ---------------------------------------------------------------- malformed variants

    /** {@code update} with the named tensor given another shape (same bytes, so same count or not). */
    public static Update reshaped(Update update, String tensor, long[] shape) {
        return transform(update, tensor, t -> new TensorData(t.name(), t.type(), shape, t.chunks(), t.chunkElements()));
    }

    /** {@code update} with the named tensor renamed. */
    public static Update renamed(Update update, String tensor, String newName) {
        return transform(update, tensor, t -> new TensorData(newName, t.type(), t.shape(), t.chunks(), t.chunkElements()));
    }

    /** {@code update} without the named tensor. */
    public static Update without(Update update, String tensor) {
        return transform(update, tensor, t -> null);
    }

    /** {@code update} with one more F32 tensor of one element. */
    public static Update withExtra(Update update, String name, float value) {
        List<TensorData> tensors = new ArrayList<>(update.tensors());
        ByteBuffer b = ByteBuffer.allocateDirect(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(0, value);
        tensors.add(TensorData.of(name, ElementType.F32, new long[] {1}, b));
        Collections.reverse(tensors);
        return new Update(update.label(), tensors);
    }

    /** A copy of {@code updates} with element {@code index} replaced. */
    public static List<Update> replace(List<Update> updates, int index, Update replacement) {
        List<Update> copy = new ArrayList<>(updates);
        copy.set(index, replacement);
        return copy;
    }

    private static Update transform(Update update, String tensor, java.util.function.Function<TensorData, TensorData> f) {
        List<TensorData> tensors = new ArrayList<>();
        boolean found = false;
        for (TensorData t : update.tensors()) {
            if (t.name().equals(tensor)) {
                found = true;
                TensorData replaced = f.apply(t);
                if (replaced != null) {
                    tensors.add(replaced);
                }
            } else {
                tensors.add(t);
            }
        }
        if (!found) {
            throw new IllegalArgumentException("no tensor " + tensor + " in " + update.label());
        }
        return new Update(update.label(), tensors);
    }
}
