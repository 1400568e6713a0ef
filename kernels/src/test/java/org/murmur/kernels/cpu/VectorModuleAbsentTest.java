package org.murmur.kernels.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.murmur.kernels.api.ElementType;
import org.murmur.kernels.api.FloatVector;
import org.murmur.kernels.api.RuleSpec;
import org.murmur.kernels.api.TensorData;
import org.murmur.kernels.api.Update;
import org.murmur.kernels.api.UpdateBatch;

/** A JVM started without the vector module still gets a working CPU backend, on portable kernels. */
class VectorModuleAbsentTest {

    /** Run in the child JVM: prints the kernels in use and a median of three small updates. */
    public static void main(String[] args) {
        try (CpuBackend backend = new CpuBackend()) {
            UpdateBatch batch = UpdateBatch.of(update(1f, 5f), update(2f, 4f), update(9f, 3f));
            FloatVector out = FloatVector.allocate(2);
            backend.aggregate(new RuleSpec.Median(), batch, out);
            float[] median = new float[2];
            out.get(0, median, 0, 2);
            System.out.println(backend.kernels() + " " + median[0] + " " + median[1]);
        }
    }

    private static Update update(float a, float b) {
        ByteBuffer bytes = ByteBuffer.allocateDirect(8).order(ByteOrder.LITTLE_ENDIAN).putFloat(a).putFloat(b).flip();
        return new Update("u", List.of(TensorData.of("w", ElementType.F32, new long[] {2}, bytes)));
    }

    @Test
    void fallsBackToPortableKernels() throws IOException, InterruptedException {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process child = new ProcessBuilder(java.toString(), "-cp", System.getProperty("java.class.path"),
                VectorModuleAbsentTest.class.getName()).redirectErrorStream(true).start();
        String output = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        child.waitFor(60, TimeUnit.SECONDS);
        assertEquals(0, child.exitValue(), output);
        assertEquals("portable 2.0 4.0", output);
    }
}
