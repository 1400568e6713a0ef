package org.murmur.bench.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.murmur.bench.fl.FashionMnist;
import org.murmur.bench.fl.RealData;
import org.murmur.proto.v1.RoundResult;
import org.murmur.server.cli.Main;

/**
 * The demo end to end through the real server over gRPC, on 8 nodes, 3 rounds and a 6,000-image
 * subset of Fashion-MNIST (skipped, naming the install command, where it is not installed): a clean
 * run learns, sign-flipping attackers are rejected and slashed, a second run in the same data
 * directory gets a task of its own, and {@code murmur ledger verify} passes on both ledgers.
 */
class DemoRunTest {
    @TempDir
    Path dir;

    @Test
    void aCleanRunLearnsSignFlippersAreRejectedAndSlashedAndBothLedgersVerify() throws Exception {
        FashionMnist data = RealData.fashionMnist();
        Path dataDir = dir.resolve("murmur-demo");

        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        DemoResult clean = DemoRun.run(settings(dataDir, "--malicious", "0"), data,
                new ConsoleView(new PrintStream(printed, true, StandardCharsets.UTF_8), false, false));
        String console = printed.toString(StandardCharsets.UTF_8);
        assertEquals("demo-1", clean.start().task());
        assertEquals(3, clean.rounds().size(), console);
        assertTrue(clean.count(RoundResult.ROUND_RESULT_ACCEPTED) >= 1, console);
        assertTrue(clean.finalAccuracy() > clean.start().initialAccuracy() + 0.3, console);
        assertEquals(0, clean.malicious());
        assertTrue(console.contains("round 2 "), console);
        assertTrue(console.contains("check it: ./murmur ledger verify --data-dir " + dataDir), console);

        DemoResult attacked = DemoRun.run(settings(dataDir, "--malicious", "0.4", "--attack", "sign_flip",
                "--proposer-fraction", "0.5"), data, DemoView.SILENT);
        String rounds = attacked.rounds().toString();
        assertEquals("demo-2", attacked.start().task());
        assertEquals(3, attacked.malicious());
        assertTrue(attacked.count(RoundResult.ROUND_RESULT_REJECTED) >= 1, rounds);
        assertTrue(attacked.slashedMalicious().signum() > 0, rounds);
        assertEquals(attacked.start().settings().stakeUnits().multiply(BigInteger.valueOf(3)),
                attacked.depositedMalicious());

        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(new String[] {"ledger", "verify", "--data-dir", dataDir.toString()}, new PrintWriter(out),
                new PrintWriter(err));
        assertEquals(0, code, out + "\n" + err);
        assertTrue(out.toString().contains("verified 2 tasks: 2 OK, 0 corrupt"), out.toString());
    }

    private static DemoSettings settings(Path dataDir, String... flags) {
        String[] common = {"--nodes", "8", "--rounds", "3", "--samples", "6000", "--data-dir", dataDir.toString()};
        String[] args = new String[common.length + flags.length];
        System.arraycopy(common, 0, args, 0, common.length);
        System.arraycopy(flags, 0, args, common.length, flags.length);
        return DemoCommand.settings(args);
    }
}
