package org.murmur.server.economics;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The role draw of fl-alliance.md step 2, recomputed here from the text alone: seed = SHA-256(previous
 * ledger head || task id || round), key = SHA-256(seed || node id), sorted by key, the first
 * ceil(rho * n) (at least one) propose, the next committee_size (or all the rest) vote.
 */
class RoleDrawTest {
    private static final long SEED = Long.getLong("murmur.seed", 20240607L);

    @Test
    void theSeedIsTheHashOfHeadTaskIdAndTheRoundAsEightBigEndianBytes() {
        byte[] head = new byte[32];
        Arrays.fill(head, (byte) 0xA5);
        for (long round : new long[] {0, 1, 255, 256, 0x0102030405060708L, -1L}) {
            byte[] expected = sha256(ByteBuffer.allocate(32 + 6 + 8).put(head)
                    .put("task-7".getBytes(StandardCharsets.UTF_8)).putLong(round).array());
            assertArrayEquals(expected, RoleDraw.seed(head, "task-7", round), "round " + round);
        }
        // UTF-8 task ids, and every input matters.
        byte[] base = RoleDraw.seed(head, "täsk", 3);
        assertArrayEquals(sha256(concat(head, "täsk".getBytes(StandardCharsets.UTF_8), new byte[] {0, 0, 0, 0, 0, 0, 0,
                3})), base);
        assertFalse(Arrays.equals(base, RoleDraw.seed(head, "täsk", 4)));
        assertFalse(Arrays.equals(base, RoleDraw.seed(new byte[32], "täsk", 3)));
        assertFalse(Arrays.equals(base, RoleDraw.seed(head, "task", 3)));
    }

    @Test
    void theDrawMatchesAnIndependentRecomputation() {
        Random random = new Random(SEED);
        String[] fractions = {"0.2", "0.5", "0.3", "0.34", "1", "0.000000000000000001", "0.999"};
        int[] committees = {0, 1, 2, 3, 100};
        for (int trial = 0; trial < 300; trial++) {
            int n = trial < 20 ? trial : 1 + random.nextInt(40);
            List<String> joined = nodes(random, n);
            byte[] seed = new byte[32];
            random.nextBytes(seed);
            String rho = fractions[random.nextInt(fractions.length)];
            int committee = committees[random.nextInt(committees.length)];
            RoleDraw draw = RoleDraw.draw(seed, joined, ExactDecimal.parse("rho", rho), committee);
            String where = "seed " + SEED + ", trial " + trial + ", n " + n + ", rho " + rho + ", committee "
                    + committee;

            List<String> sorted = new ArrayList<>(joined);
            sorted.sort((a, b) -> Arrays.compareUnsigned(key(seed, a), key(seed, b)));
            int proposers = n == 0 ? 0 : Math.min(n, Math.max(1, ceilTimes(rho, n)));
            int voters = committee == 0 ? n - proposers : Math.min(committee, n - proposers);
            assertEquals(sorted.subList(0, proposers), draw.proposers(), "proposers, " + where);
            assertEquals(sorted.subList(proposers, proposers + voters), draw.voters(), "voters, " + where);
            assertArrayEquals(seed, draw.seed(), where);
        }
    }

    @Test
    void proposerCountIsCeilRhoNAtLeastOne() {
        assertEquals(1, proposers("0.2", 1));
        assertEquals(1, proposers("0.2", 5));
        assertEquals(2, proposers("0.2", 6), "ceil(1.2)");
        assertEquals(3, proposers("0.3", 10), "ceil(3)");
        assertEquals(7, proposers("0.07", 100), "ceil(0.07 * 100) is 7 exactly, not the 8 of doubles");
        assertEquals(14, proposers("0.14", 100), "ceil(0.14 * 100) is 14 exactly, not the 15 of doubles");
        assertEquals(1, proposers("0.000000000000000001", 50), "at least one proposer");
        assertEquals(4, proposers("1", 4), "rho = 1: everyone proposes, nobody votes");
        assertEquals(0, RoleDraw.draw(new byte[32], List.of("a", "b", "c", "d"), ExactDecimal.parse("rho", "1"), 0)
                .voters().size());
        assertEquals(0, proposers("0.5", 0), "nobody joined");
    }

    @Test
    void committeeSizeBoundsTheVoters() {
        List<String> joined = nodes(new Random(SEED), 10);
        ExactDecimal rho = ExactDecimal.parse("rho", "0.2");
        assertEquals(8, RoleDraw.draw(new byte[32], joined, rho, 0).voters().size(), "0: every non-proposer");
        assertEquals(3, RoleDraw.draw(new byte[32], joined, rho, 3).voters().size());
        assertEquals(8, RoleDraw.draw(new byte[32], joined, rho, 8).voters().size());
        assertEquals(8, RoleDraw.draw(new byte[32], joined, rho, 9).voters().size(), "no more voters than nodes");
        // A committee is the head of the full voter list: the same draw order.
        assertEquals(RoleDraw.draw(new byte[32], joined, rho, 0).voters().subList(0, 3),
                RoleDraw.draw(new byte[32], joined, rho, 3).voters());
    }

    @Test
    void theDrawIsAPureFunctionOfSeedAndJoinedSetNotOfJoinOrder() {
        Random random = new Random(SEED);
        for (int trial = 0; trial < 50; trial++) {
            List<String> joined = nodes(random, 2 + random.nextInt(20));
            byte[] seed = new byte[32];
            random.nextBytes(seed);
            ExactDecimal rho = ExactDecimal.parse("rho", "0.3");
            RoleDraw first = RoleDraw.draw(seed, joined, rho, 0);
            List<String> shuffled = new ArrayList<>(joined);
            Collections.shuffle(shuffled, random);
            RoleDraw again = RoleDraw.draw(seed.clone(), shuffled, rho, 0);
            assertEquals(first, again, "seed " + SEED + ", trial " + trial);
            assertEquals(first.hashCode(), again.hashCode());
            // Roles are disjoint and drawn from the joined set.
            HashSet<String> roles = new HashSet<>(first.proposers());
            first.voters().forEach(v -> assertTrue(roles.add(v), "a node holds two roles, seed " + SEED));
            assertTrue(joined.containsAll(roles));
        }
    }

    @Test
    void theDrawDoesNotLeakThroughItsArrays() {
        byte[] seed = new byte[32];
        RoleDraw draw = RoleDraw.draw(seed, List.of("a", "b", "c"), ExactDecimal.parse("rho", "0.2"), 0);
        seed[0] = 1;
        draw.seed()[1] = 1;
        assertArrayEquals(new byte[32], draw.seed());
    }

    private static int proposers(String rho, int n) {
        List<String> joined = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            joined.add("node-" + i);
        }
        return RoleDraw.draw(new byte[32], joined, ExactDecimal.parse("rho", rho), 0).proposers().size();
    }

    /** ceil(rho * n) from the decimal digits, exactly. */
    private static int ceilTimes(String rho, int n) {
        return new BigDecimal(rho).multiply(BigDecimal.valueOf(n)).setScale(0, RoundingMode.CEILING).intValueExact();
    }

    private static byte[] key(byte[] seed, String node) {
        return sha256(concat(seed, node.getBytes(StandardCharsets.UTF_8)));
    }

    static List<String> nodes(Random random, int n) {
        List<String> nodes = new ArrayList<>();
        HexFormat hex = HexFormat.of();
        for (int i = 0; i < n; i++) {
            byte[] id = new byte[20];
            random.nextBytes(id);
            nodes.add(hex.formatHex(id));
        }
        return nodes;
    }

    static byte[] concat(byte[]... parts) {
        int length = 0;
        for (byte[] p : parts) {
            length += p.length;
        }
        ByteBuffer buf = ByteBuffer.allocate(length);
        for (byte[] p : parts) {
            buf.put(p);
        }
        return buf.array();
    }

    static byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
