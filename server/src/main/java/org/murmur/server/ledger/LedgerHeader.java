package org.murmur.server.ledger;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/** Why a file's first bytes are not the expected ledger header, in words an operator can act on. */
final class LedgerHeader {
    /** Enough bytes to read any header, whatever ledger id it names. */
    static final int MAX_BYTES = LedgerFormat.FILE_MAGIC.length + 8 + LedgerFormat.MAX_LEDGER_ID_BYTES;

    private LedgerHeader() {
    }

    /** True when {@code found} is a proper prefix of {@code expected}: a header whose write was cut short. */
    static boolean isTorn(byte[] found, byte[] expected) {
        return found.length < expected.length
                && Arrays.equals(found, 0, found.length, expected, 0, found.length);
    }

    /** Explains a mismatch; {@code found} holds the file's first bytes (up to {@link #MAX_BYTES}). */
    static String mismatch(byte[] found, long fileLength, String ledgerId) {
        byte[] magic = LedgerFormat.FILE_MAGIC;
        if (found.length < magic.length || !Arrays.equals(found, 0, magic.length, magic, 0, magic.length)) {
            return "the file (" + fileLength + " bytes) does not start with \"MURMUR-LEDGER\\n\", so it is not a"
                    + " Murmur ledger";
        }
        ByteBuffer rest = ByteBuffer.wrap(found, magic.length, found.length - magic.length);
        if (rest.remaining() < 4) {
            return "the file ends inside the header's version field";
        }
        int version = rest.getInt();
        if (version != LedgerFormat.VERSION) {
            return "format version " + Integer.toUnsignedString(version) + ", this server reads version "
                    + LedgerFormat.VERSION;
        }
        if (rest.remaining() < 4) {
            return "the file ends inside the header's ledger id length";
        }
        int idLength = rest.getInt();
        if (idLength <= 0 || idLength > LedgerFormat.MAX_LEDGER_ID_BYTES) {
            return "ledger id length " + Integer.toUnsignedString(idLength) + " is outside 1.."
                    + LedgerFormat.MAX_LEDGER_ID_BYTES;
        }
        if (rest.remaining() < idLength) {
            return "the file ends inside the header's ledger id, which does not start like \"" + ledgerId + "\"";
        }
        String foundId = new String(found, rest.position(), idLength, StandardCharsets.UTF_8);
        return "the header names ledger \"" + foundId + "\", not \"" + ledgerId + "\"";
    }
}
