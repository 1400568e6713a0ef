package org.murmur.bench.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The demo's command line: every bad flag exits 2 naming it, before anything runs; missing data exits 3. */
class DemoCommandTest {
    @TempDir
    Path dir;

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
            "--nodes 2                              | --nodes: must be 3 to 1000",
            "--nodes many                           | '--nodes': 'many' is not an int",
            "--rounds 0                             | --rounds: must be 1 to 1000",
            "--malicious 1.5                        | --malicious: must be a fraction from 0 to 1",
            "--malicious NaN                        | --malicious: must be a fraction from 0 to 1",
            "--lying-voters -0.1                    | --lying-voters: must be a fraction from 0 to 1",
            "--no-voting --lying-voters 0.2         | --lying-voters: has no effect with --no-voting",
            "--stake 5                              | --stake: must be 10 (the task's minimum stake)",
            "--attack poison                        | --attack: 'poison' is not one of label_flip, sign_flip",
            "--rule mean                            | --rule: unknown rule 'mean'",
            "--rule krum                            | --f: is required by rule krum",
            "--rule median --k 1                    | --k: does not apply to rule median",
            "--rule trimmed_mean --k -1             | --k: must be >= 0",
            "--rule krum --f 1                      | --rule: krum needs n >= 2f+3: n = 4, --f 1",
            "--proposer-fraction 0                  | --proposer-fraction: must be above 0",
            "--proposer-fraction 1e-1               | --proposer-fraction: '1e-1' is not a plain decimal",
            "--proposer-fraction 0.99               | --proposer-fraction: 0.99 of 20 nodes leaves no voter",
            "--partition skewed                     | --partition: 'skewed' is not one of iid, dirichlet",
            "--alpha 0.3                            | --alpha: applies to --partition dirichlet only",
            "--partition dirichlet --alpha 0        | --alpha: must be a finite number above 0",
            "--samples 100                          | --samples: 100 training images cannot give 20 nodes",
            "--samples 70000                        | --samples: must be 1 to 60000",
            "--backend gpu                          | --backend: must be auto, cpu or cuda",
            "--metrics-port 70000                   | --metrics-port: must be 0 (any free port) to 65535",
            "--colour                               | Unknown option: '--colour'",
    })
    void aBadFlagExitsTwoNamingIt(String flags, String message) {
        List<String> args = new ArrayList<>(List.of(flags.split(" ")));
        args.addAll(List.of("--data-dir", dir.resolve("demo").toString()));
        Run run = run(args.toArray(String[]::new));
        assertEquals(DemoCommand.EXIT_USAGE, run.code(), run.err());
        assertTrue(run.err().startsWith("murmur demo: "), run.err());
        assertTrue(run.err().contains(message), run.err());
        assertEquals("", run.out());
        assertFalse(Files.exists(dir.resolve("demo")), "nothing runs before every flag is checked");
    }

    @Test
    void aDataDirectoryThatIsAFileExitsTwoNamingTheFlag() throws Exception {
        Path file = Files.writeString(dir.resolve("file"), "not a directory");
        Run run = run("--data-dir", file.toString());
        assertEquals(DemoCommand.EXIT_USAGE, run.code(), run.err());
        assertTrue(run.err().startsWith("murmur demo: --data-dir: "), run.err());
    }

    @Test
    void missingFashionMnistExitsThreeSayingWhatToInstall() {
        Run run = run("--fashion-mnist", dir.toString(), "--data-dir", dir.resolve("demo").toString());
        assertEquals(DemoCommand.EXIT_ENVIRONMENT, run.code(), run.err());
        assertTrue(run.err().contains("apt-get install dataset-fashion-mnist"), run.err());
        assertTrue(run.err().contains("--fashion-mnist DIR"), run.err());
    }

    private record Run(int code, String out, String err) {
    }

    private static Run run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = DemoCommand.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }
}
