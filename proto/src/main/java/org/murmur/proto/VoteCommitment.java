package org.murmur.proto;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * The commitment a voter sends before revealing (murmur.proto, CommitVoteRequest): SHA-256 of
 * {@code str("murmur.v1/vote-commitment") str(task id) u64(round) str(voter id) candidate sha256
 * score(1 byte) metric(8 bytes IEEE-754, big-endian) str(salt)}, with str a u32 big-endian length
 * then the bytes. The voter id keeps one voter from copying another's commitment.
 */
public final class VoteCommitment {
    public static final String DOMAIN = "murmur.v1/vote-commitment";

    private VoteCommitment() {
    }

    public static byte[] of(String taskId, long round, String voterId, byte[] candidateSha256, int score,
                            double metric, byte[] salt) {
        if (score != 1 && score != -1) {
            throw new IllegalArgumentException("score must be +1 or -1, got " + score);
        }
        byte[] domain = DOMAIN.getBytes(StandardCharsets.UTF_8);
        byte[] task = taskId.getBytes(StandardCharsets.UTF_8);
        byte[] voter = voterId.getBytes(StandardCharsets.UTF_8);
        ByteBuffer buf = ByteBuffer.allocate(4 * 4 + domain.length + task.length + 8 + voter.length
                + candidateSha256.length + 1 + 8 + salt.length);
        buf.putInt(domain.length).put(domain).putInt(task.length).put(task).putLong(round)
                .putInt(voter.length).put(voter).put(candidateSha256).put((byte) score)
                .putLong(Double.doubleToRawLongBits(metric)).putInt(salt.length).put(salt);
        try {
            return MessageDigest.getInstance("SHA-256").digest(buf.array());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }
}
