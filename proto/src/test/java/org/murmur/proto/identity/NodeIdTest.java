package org.murmur.proto.identity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.security.PublicKey;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class NodeIdTest {
    /** RFC 8032, section 7.1, test 1: the public key. */
    private static final byte[] RFC8032_KEY =
            HexFormat.of().parseHex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");

    @Test
    void knownKeyGivesTheFirst20BytesOfItsSha256InLowercaseHex() {
        // python3 -c "import hashlib; print(hashlib.sha256(bytes.fromhex('d75a...511a')).hexdigest()[:40])"
        assertEquals("21fe31dfa154a261626bf854046fd2271b7bed4b", NodeId.ofRawKey(RFC8032_KEY).hex());
        assertEquals(NodeId.ofRawKey(RFC8032_KEY), NodeId.of(Ed25519.publicKey(RFC8032_KEY)));
    }

    @Test
    void stableFortyLowercaseHexCharacters() {
        NodeKeys keys = NodeKeys.generate();
        NodeId id = NodeId.of(keys.publicKey());
        assertEquals(NodeId.HEX_LENGTH, id.hex().length());
        assertTrue(id.hex().matches("[0-9a-f]{40}"), id.hex());
        assertEquals(id, NodeId.of(keys.publicKey()));
        assertEquals(id, NodeId.of(Ed25519.publicKey(keys.rawPublicKey())));
        assertEquals(id, keys.nodeId());
        assertEquals(id.hex(), id.toString());
        assertNotEquals(id, NodeKeys.generate().nodeId());
    }

    @Test
    void equalsHashCodeAndParse() {
        NodeId id = NodeKeys.generate().nodeId();
        NodeId parsed = NodeId.parse(id.hex());
        assertEquals(id, parsed);
        assertEquals(id.hashCode(), parsed.hashCode());
        assertEquals(0, id.compareTo(parsed));
        assertNotEquals(id, id.hex());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "21fe31dfa154a261626bf854046fd2271b7bed4", "21fe31dfa154a261626bf854046fd2271b7bed4b0",
        "21FE31DFA154A261626BF854046FD2271B7BED4B", "21fe31dfa154a261626bf854046fd2271b7bed4g", " 1fe31dfa154a261626bf854046fd2271b7bed4b"})
    void parseRefusesAnythingButFortyLowercaseHex(String text) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> NodeId.parse(text));
        assertTrue(e.getMessage().contains("\"" + text + "\""), e.getMessage());
    }

    @Test
    void rawKeyConversionsRoundTripAndRefuseWrongLengths() {
        PublicKey key = Ed25519.publicKey(RFC8032_KEY);
        assertEquals(HexFormat.of().formatHex(RFC8032_KEY), HexFormat.of().formatHex(Ed25519.rawPublicKey(key)));
        assertThrows(IllegalArgumentException.class, () -> Ed25519.publicKey(new byte[31]));
        assertThrows(IllegalArgumentException.class, () -> NodeId.ofRawKey(new byte[33]));
    }

    /** 02 00..00 is no point of the curve: the JDK's key factory takes it, its first verification would not. */
    @Test
    void aKeyThatIsNoPointOfTheCurveIsRefusedWhenItIsRead() {
        byte[] raw = new byte[Ed25519.PUBLIC_KEY_BYTES];
        raw[0] = 2;
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Ed25519.publicKey(raw));
        assertTrue(e.getMessage().startsWith("not a valid Ed25519 public key"), e.getMessage());
    }
}
