package org.murmur.proto.identity;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;
import java.util.Set;

/**
 * A node's Ed25519 key pair and the node id derived from it.
 *
 * <p>On disk a key file is PEM text: a {@code PRIVATE KEY} block (PKCS#8) and a {@code PUBLIC KEY}
 * block (X.509 SubjectPublicKeyInfo), the same blocks {@code openssl pkey} reads and writes; lines
 * outside the blocks are ignored. {@link #save} creates the file exclusively (it never overwrites a
 * key) and, where the file system has POSIX permissions, readable and writable by its owner only.
 * {@link #load} checks that the two keys belong together. Immutable and thread-safe.
 */
public final class NodeKeys {
    private static final String PRIVATE_LABEL = "PRIVATE KEY";
    private static final String PUBLIC_LABEL = "PUBLIC KEY";
    private static final int PEM_LINE = 64;
    private static final int MAX_FILE_BYTES = 64 * 1024;

    private final PrivateKey privateKey;
    private final PublicKey publicKey;
    private final NodeId nodeId;

    private NodeKeys(PrivateKey privateKey, PublicKey publicKey) {
        this.privateKey = privateKey;
        this.publicKey = publicKey;
        this.nodeId = NodeId.of(publicKey);
    }

    /** A fresh key pair from the JDK's default secure random source. */
    public static NodeKeys generate() {
        try {
            KeyPair pair = KeyPairGenerator.getInstance(Ed25519.ALGORITHM).generateKeyPair();
            return new NodeKeys(pair.getPrivate(), pair.getPublic());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JDK has no Ed25519 (Java 15 or later has it)", e);
        }
    }

    /**
     * Reads a key file written by {@link #save} (or by {@code openssl genpkey -algorithm ed25519}
     * plus {@code openssl pkey -pubout} appended). Fails with a {@link KeyFileException} naming the
     * file when it is missing, unreadable, not PEM, not Ed25519, or when its keys do not match.
     */
    public static NodeKeys load(Path file) throws KeyFileException {
        String text;
        try {
            if (Files.size(file) > MAX_FILE_BYTES) {
                throw new KeyFileException(file, "larger than " + MAX_FILE_BYTES + " bytes; not a key file");
            }
            text = StandardCharsets.US_ASCII.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(Files.readAllBytes(file)))
                    .toString();
        } catch (NoSuchFileException e) {
            throw new KeyFileException(file, "does not exist (generate a key first)", e);
        } catch (CharacterCodingException e) {
            throw new KeyFileException(file, "is not PEM text (non-ASCII bytes)", e);
        } catch (KeyFileException e) {
            throw e;
        } catch (IOException e) {
            throw new KeyFileException(file, "cannot be read: " + e, e);
        }
        byte[] privateDer = pemBlock(file, text, PRIVATE_LABEL);
        byte[] publicDer = pemBlock(file, text, PUBLIC_LABEL);
        PrivateKey privateKey;
        PublicKey publicKey;
        try {
            KeyFactory factory = KeyFactory.getInstance(Ed25519.ALGORITHM);
            privateKey = factory.generatePrivate(new PKCS8EncodedKeySpec(privateDer));
            publicKey = factory.generatePublic(new X509EncodedKeySpec(publicDer));
            Ed25519.rawPublicKey(publicKey);
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            throw new KeyFileException(file, "does not hold an Ed25519 key pair: " + e.getMessage(), e);
        }
        if (!belongTogether(privateKey, publicKey)) {
            throw new KeyFileException(file, "its public key does not belong to its private key");
        }
        return new NodeKeys(privateKey, publicKey);
    }

    /**
     * Writes this key pair to a new file (parent folders created), owner-only where POSIX
     * permissions exist, and forces it to disk. Refuses to replace an existing file: a node key
     * that is overwritten is an identity lost.
     */
    public void save(Path file) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        String text = "# Murmur node key, node id " + nodeId + "\n"
                + pem(PRIVATE_LABEL, privateKey.getEncoded())
                + pem(PUBLIC_LABEL, publicKey.getEncoded());
        Set<OpenOption> options = Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        boolean posix = Files.getFileStore(parent == null ? file.toAbsolutePath() : parent)
                .supportsFileAttributeView("posix");
        FileAttribute<?>[] attributes = posix
                ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"))}
                : new FileAttribute<?>[0];
        try (FileChannel channel = FileChannel.open(file, options, attributes)) {
            ByteBuffer bytes = ByteBuffer.wrap(text.getBytes(StandardCharsets.US_ASCII));
            while (bytes.hasRemaining()) {
                channel.write(bytes);
            }
            channel.force(true);
        } catch (FileAlreadyExistsException e) {
            throw new FileAlreadyExistsException(file.toString(), null, "a node key file already exists; refusing to overwrite it");
        }
    }

    /** The private key; it never leaves this process except through {@link #save}. */
    public PrivateKey privateKey() {
        return privateKey;
    }

    public PublicKey publicKey() {
        return publicKey;
    }

    /** The raw 32-byte public key, as {@code Auth.public_key} carries it. */
    public byte[] rawPublicKey() {
        return Ed25519.rawPublicKey(publicKey);
    }

    public NodeId nodeId() {
        return nodeId;
    }

    /** Names the node; never prints key material. */
    @Override
    public String toString() {
        return "NodeKeys[" + nodeId + "]";
    }

    private static String pem(String label, byte[] der) {
        String body = Base64.getMimeEncoder(PEM_LINE, new byte[] {'\n'}).encodeToString(der);
        return "-----BEGIN " + label + "-----\n" + body + "\n-----END " + label + "-----\n";
    }

    private static byte[] pemBlock(Path file, String text, String label) throws KeyFileException {
        String begin = "-----BEGIN " + label + "-----";
        String end = "-----END " + label + "-----";
        int start = text.indexOf(begin);
        if (start < 0) {
            throw new KeyFileException(file, "has no " + begin + " block");
        }
        if (text.indexOf(begin, start + begin.length()) >= 0) {
            throw new KeyFileException(file, "has more than one " + begin + " block");
        }
        int stop = text.indexOf(end, start);
        if (stop < 0) {
            throw new KeyFileException(file, "its " + label + " block has no " + end + " line (file truncated?)");
        }
        String body = text.substring(start + begin.length(), stop).replaceAll("\\s", "");
        try {
            byte[] der = Base64.getDecoder().decode(body);
            if (der.length == 0) {
                throw new KeyFileException(file, "its " + label + " block is empty");
            }
            return der;
        } catch (IllegalArgumentException e) {
            throw new KeyFileException(file, "its " + label + " block is not valid base64: " + e.getMessage(), e);
        }
    }

    private static boolean belongTogether(PrivateKey privateKey, PublicKey publicKey) {
        byte[] probe = "murmur.v1/key-pair-check".getBytes(StandardCharsets.US_ASCII);
        try {
            Signature signer = Signature.getInstance(Ed25519.ALGORITHM);
            signer.initSign(privateKey);
            signer.update(probe);
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance(Ed25519.ALGORITHM);
            verifier.initVerify(publicKey);
            verifier.update(probe);
            return verifier.verify(signature);
        } catch (GeneralSecurityException e) {
            return false;
        }
    }
}
