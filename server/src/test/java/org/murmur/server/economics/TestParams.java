package org.murmur.server.economics;

import com.google.protobuf.ByteString;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import org.murmur.proto.v1.DType;
import org.murmur.proto.v1.TaskParams;
import org.murmur.proto.v1.TensorSpec;

/** Task parameters for tests: the two required fields set, everything else left to its default. */
public final class TestParams {
    /** SHA-256 of "initial model": the initial global model of every test task. */
    public static final ByteString INITIAL_MODEL = sha256("initial model");

    private TestParams() {
    }

    /** The smallest valid parameters: a one-tensor schema and the initial model's hash. */
    public static TaskParams.Builder minimal() {
        return TaskParams.newBuilder()
                .addModelSchema(TensorSpec.newBuilder().setName("w").setDtype(DType.DTYPE_F32).addShape(4))
                .setInitialModelSha256(INITIAL_MODEL);
    }

    public static TaskRules rules(TaskParams.Builder params) {
        return TaskRules.fromProto(params.build());
    }

    public static String amount(long units) {
        return BigInteger.valueOf(units).toString();
    }

    public static ByteString sha256(String text) {
        try {
            return ByteString.copyFrom(MessageDigest.getInstance("SHA-256")
                    .digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
