package org.murmur.proto.identity;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NodeKeysTest {
    @TempDir
    Path dir;

    @Test
    void savedKeysLoadBackAsTheSameIdentity() throws IOException {
        NodeKeys keys = NodeKeys.generate();
        Path file = dir.resolve("keys/node.pem");

        keys.save(file);
        NodeKeys loaded = NodeKeys.load(file);

        assertEquals(keys.nodeId(), loaded.nodeId());
        assertEquals(keys.publicKey(), loaded.publicKey());
        assertArrayEquals(keys.privateKey().getEncoded(), loaded.privateKey().getEncoded());
        String text = Files.readString(file);
        assertTrue(text.contains("-----BEGIN PRIVATE KEY-----") && text.contains("-----BEGIN PUBLIC KEY-----"));
        assertTrue(text.contains(keys.nodeId().hex()));
        assertFalse(keys.toString().contains("PRIVATE"));

        CanonicalRequest request = CanonicalRequest.of(Purpose.STAKE, "t", 0, keys.nodeId(), new byte[16], new byte[32]);
        assertEquals(SignatureVerifier.Outcome.VALID, SignatureVerifier.check(request,
                new RequestSigner(loaded).sign(request), keys.publicKey()));
    }

    @Test
    void savedFileIsOwnerOnlyWherePosixPermissionsExist() throws IOException {
        assumeTrue(Files.getFileStore(dir).supportsFileAttributeView("posix"));
        Path file = dir.resolve("node.pem");
        NodeKeys.generate().save(file);
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
    }

    @Test
    void saveNeverOverwritesAKey() throws IOException {
        Path file = dir.resolve("node.pem");
        NodeKeys first = NodeKeys.generate();
        first.save(file);
        FileAlreadyExistsException e = assertThrows(FileAlreadyExistsException.class, () -> NodeKeys.generate().save(file));
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        assertEquals(first.nodeId(), NodeKeys.load(file).nodeId());
    }

    @Test
    void missingFileIsNamed() {
        Path file = dir.resolve("absent.pem");
        KeyFileException e = assertThrows(KeyFileException.class, () -> NodeKeys.load(file));
        assertEquals(file, e.file());
        assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("does not exist"), e.getMessage());
    }

    @Test
    void corruptFilesAreRefusedNamingFileAndFault() throws IOException {
        Path good = dir.resolve("good.pem");
        NodeKeys.generate().save(good);
        String text = Files.readString(good);
        Path other = dir.resolve("other.pem");
        NodeKeys.generate().save(other);
        String otherText = Files.readString(other);
        String otherPublic = otherText.substring(otherText.indexOf("-----BEGIN PUBLIC KEY-----"));

        assertRefused("empty", "", "no -----BEGIN PRIVATE KEY-----");
        assertRefused("garbage", "hello, I am not a key\n", "no -----BEGIN PRIVATE KEY-----");
        assertRefused("truncated", text.substring(0, text.indexOf("-----END PRIVATE KEY-----") - 3), "truncated");
        assertRefused("no-public", text.substring(0, text.indexOf("-----BEGIN PUBLIC KEY-----")),
                "no -----BEGIN PUBLIC KEY-----");
        int body = text.indexOf("-----BEGIN PRIVATE KEY-----\n") + "-----BEGIN PRIVATE KEY-----\n".length();
        assertRefused("bad-base64", text.substring(0, body) + "!!" + text.substring(body + 2), "not valid base64");
        assertRefused("not-a-key", text.substring(0, body) + "AAAA" + text.substring(body + 4), "Ed25519");
        assertRefused("mismatched", text.substring(0, text.indexOf("-----BEGIN PUBLIC KEY-----")) + otherPublic,
                "does not belong");
        assertRefused("two-private", text + text.substring(0, text.indexOf("-----BEGIN PUBLIC KEY-----")),
                "more than one");
        Path binary = dir.resolve("binary.pem");
        Files.write(binary, new byte[] {(byte) 0xff, (byte) 0xfe, 0, 1});
        KeyFileException e = assertThrows(KeyFileException.class, () -> NodeKeys.load(binary));
        assertTrue(e.getMessage().contains(binary.toString()) && e.getMessage().contains("not PEM"), e.getMessage());
    }

    private void assertRefused(String name, String content, String fault) throws IOException {
        Path file = dir.resolve(name + ".pem");
        Files.writeString(file, content, StandardCharsets.US_ASCII);
        KeyFileException e = assertThrows(KeyFileException.class, () -> NodeKeys.load(file), name);
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        assertTrue(e.getMessage().contains(fault), name + ": " + e.getMessage());
    }

    @Test
    void readsAKeyMadeByOpenssl() throws Exception {
        Path file = dir.resolve("openssl.pem");
        assumeTrue(run("openssl", "genpkey", "-algorithm", "ed25519", "-out", dir.resolve("priv.pem").toString()));
        assumeTrue(run("openssl", "pkey", "-in", dir.resolve("priv.pem").toString(), "-pubout",
                "-out", dir.resolve("pub.pem").toString()));
        Files.writeString(file, Files.readString(dir.resolve("priv.pem")) + Files.readString(dir.resolve("pub.pem")));

        NodeKeys keys = NodeKeys.load(file);

        assertEquals(NodeId.of(keys.publicKey()), keys.nodeId());
    }

    private static boolean run(String... command) {
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            process.getInputStream().readAllBytes();
            return process.waitFor(30, TimeUnit.SECONDS) && process.exitValue() == 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }
}
