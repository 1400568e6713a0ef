package org.murmur.proto.v1;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.murmur.proto.Wire;

/** The generated message classes compile, serialize and parse back to equal values. */
class GeneratedMessagesTest {

    private static byte[] randomBytes(int n, long seed) {
        byte[] bytes = new byte[n];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    static UpdateHeader header() {
        return UpdateHeader.newBuilder()
                .setTaskId("mnist-1")
                .setRound(3)
                .addManifest(TensorSpec.newBuilder().setName("fc.weight").setDtype(DType.DTYPE_F32)
                        .addShape(128).addShape(784))
                .addManifest(TensorSpec.newBuilder().setName("fc.bias").setDtype(DType.DTYPE_BF16).addShape(128))
                .setTotalBytes(401_664)
                .setSha256(ByteString.copyFrom(randomBytes(32, 1)))
                .setNumSamples(600)
                .setResume(false)
                .setAuth(Auth.newBuilder().setNodeId("0123456789abcdef0123456789abcdef01234567")
                        .setNonce(ByteString.copyFrom(randomBytes(16, 2)))
                        .setSignature(ByteString.copyFrom(randomBytes(64, 3))))
                .build();
    }

    @Test
    void pushUpdateHeaderAndChunkRoundTrip() throws InvalidProtocolBufferException {
        PushUpdateRequest first = PushUpdateRequest.newBuilder().setHeader(header()).build();
        PushUpdateRequest second = PushUpdateRequest.newBuilder()
                .setChunk(Chunk.newBuilder().setOffset(0).setData(ByteString.copyFrom(randomBytes(4096, 4))))
                .build();

        PushUpdateRequest parsedFirst = PushUpdateRequest.parseFrom(first.toByteArray());
        PushUpdateRequest parsedSecond = PushUpdateRequest.parseFrom(second.toByteArray());

        assertEquals(first, parsedFirst);
        assertEquals(PushUpdateRequest.KindCase.HEADER, parsedFirst.getKindCase());
        assertEquals("fc.weight", parsedFirst.getHeader().getManifest(0).getName());
        assertEquals(java.util.List.of(128L, 784L), parsedFirst.getHeader().getManifest(0).getShapeList());
        assertEquals(second, parsedSecond);
        assertEquals(PushUpdateRequest.KindCase.CHUNK, parsedSecond.getKindCase());
        assertEquals(4096, parsedSecond.getChunk().getData().size());
    }

    @Test
    void fullChunkFitsTheMessageLimitWithRoomToSpare() {
        PushUpdateRequest chunk = PushUpdateRequest.newBuilder()
                .setChunk(Chunk.newBuilder().setOffset(Long.MAX_VALUE)
                        .setData(ByteString.copyFrom(new byte[Wire.CHUNK_BYTES])))
                .build();
        assertTrue(chunk.getSerializedSize() < Wire.MAX_MESSAGE_BYTES / 2,
                "a full chunk must stay far below the message limit: " + chunk.getSerializedSize());
        assertEquals(1 << 20, Wire.CHUNK_BYTES);
        assertEquals(4 << 20, Wire.MAX_MESSAGE_BYTES);
    }

    @Test
    void taskParamsKeepPresenceOfDefaults() throws InvalidProtocolBufferException {
        TaskParams params = TaskParams.newBuilder()
                .setTotalRounds(10)
                .setCommitteeSize(0)
                .setStakeWeightedVotes(false)
                .setMinStake("10000000000000000000")
                .setRewardPool("1000000000000000000000")
                .setProposerFraction("0.2")
                .setSlashFraction("0.1")
                .setEconomics(Economics.ECONOMICS_FIXED_PENALTY)
                .setPenalty("8000000000000000000")
                .setMetricDirection(MetricDirection.METRIC_DIRECTION_LOWER_IS_BETTER)
                .setRule(RuleSpec.newBuilder().setName("multikrum").setF(2).setM(5))
                .addModelSchema(TensorSpec.newBuilder().setName("w").setDtype(DType.DTYPE_F16))
                .setInitialModelSha256(ByteString.copyFrom(randomBytes(32, 5)))
                .build();

        TaskParams parsed = TaskParams.parseFrom(params.toByteArray());

        assertEquals(params, parsed);
        assertTrue(parsed.hasCommitteeSize(), "an explicit 0 survives, distinct from absent");
        assertTrue(parsed.hasStakeWeightedVotes());
        assertTrue(!parsed.hasMinVotes(), "absent stays absent: the spec default applies");
        assertTrue(parsed.getRule().hasF() && !parsed.getRule().hasK());
        assertEquals(0, parsed.getModelSchema(0).getShapeCount(), "a 0-d tensor has an empty shape");
    }

    @Test
    void roundEventCarriesOneKindOfEvent() throws InvalidProtocolBufferException {
        RoundEvent event = RoundEvent.newBuilder()
                .setTaskId("t")
                .setRound(7)
                .setRoundFinished(RoundFinished.newBuilder().setResult(RoundResult.ROUND_RESULT_REJECTED)
                        .setTally("-64000000000000000000").setVotesRevealed(9))
                .build();
        RoundEvent parsed = RoundEvent.parseFrom(event.toByteArray());
        assertEquals(RoundEvent.EventCase.ROUND_FINISHED, parsed.getEventCase());
        assertEquals("-64000000000000000000", parsed.getRoundFinished().getTally());
    }
}
