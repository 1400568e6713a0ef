package org.murmur.server.economics;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * The verifiable role draw of fl-alliance.md: seed = SHA-256(previous ledger head hash || task id
 * || round), each joined node's key = SHA-256(seed || node id), and sorted by key (unsigned bytes)
 * the first ceil(rho * n) nodes (at least one) propose, the next {@code committee_size} (or all the
 * rest when it is 0) vote. A pure function: anyone holding the ledger recomputes the same draw.
 *
 * @param seed      the draw's seed, 32 bytes
 * @param proposers node ids in draw order
 * @param voters    node ids in draw order
 */
public record RoleDraw(byte[] seed, List<String> proposers, List<String> voters) {
    public RoleDraw {
        seed = seed.clone();
        proposers = List.copyOf(proposers);
        voters = List.copyOf(voters);
    }

    @Override
    public byte[] seed() {
        return seed.clone();
    }

    /** The seed of a round's draw; the task id is UTF-8, the round 8 bytes big-endian. */
    public static byte[] seed(byte[] previousHead, String taskId, long round) {
        MessageDigest sha = sha256();
        sha.update(previousHead);
        sha.update(taskId.getBytes(StandardCharsets.UTF_8));
        for (int shift = 56; shift >= 0; shift -= 8) {
            sha.update((byte) (round >>> shift));
        }
        return sha.digest();
    }

    /**
     * Draws the roles of {@code joined} (distinct node ids) from {@code seed}.
     *
     * @param committeeSize voters drawn; 0 means every node that does not propose
     */
    public static RoleDraw draw(byte[] seed, List<String> joined, ExactDecimal proposerFraction, int committeeSize) {
        record Keyed(String node, byte[] key) {
        }
        List<Keyed> keyed = new ArrayList<>(joined.size());
        for (String node : joined) {
            MessageDigest sha = sha256();
            sha.update(seed);
            sha.update(node.getBytes(StandardCharsets.UTF_8));
            keyed.add(new Keyed(node, sha.digest()));
        }
        keyed.sort(Comparator.<Keyed, byte[]>comparing(Keyed::key, Arrays::compareUnsigned)
                .thenComparing(Keyed::node));
        int n = keyed.size();
        int proposers = n == 0 ? 0 : (int) Math.min(n, Math.max(1, proposerFraction.ceilTimes(n)));
        int voters = committeeSize == 0 ? n - proposers : Math.min(committeeSize, n - proposers);
        List<String> order = keyed.stream().map(Keyed::node).toList();
        return new RoleDraw(seed, order.subList(0, proposers), order.subList(proposers, proposers + voters));
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RoleDraw other && Arrays.equals(seed, other.seed) && proposers.equals(other.proposers)
                && voters.equals(other.voters);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * Arrays.hashCode(seed) + proposers.hashCode()) + voters.hashCode();
    }
}
