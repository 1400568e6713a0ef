package org.murmur.server.round;

import com.google.protobuf.InvalidProtocolBufferException;
import java.util.Locale;
import org.murmur.proto.ledger.v1.LedgerEvent;
import org.murmur.server.ledger.LedgerRecord;

/**
 * How a {@link LedgerEvent} sits in a ledger record: its protobuf bytes as the payload, the name of
 * its event case in lowerCamelCase ("taskCreated") as the record type. The one place both
 * directions are written, so a record whose type and payload disagree is caught on every read.
 */
public final class LedgerEvents {
    private LedgerEvents() {
    }

    /** The record type of an event: its oneof case in lowerCamelCase. */
    public static String type(LedgerEvent event) {
        String[] words = event.getEventCase().name().toLowerCase(Locale.ROOT).split("_");
        StringBuilder type = new StringBuilder(words[0]);
        for (int i = 1; i < words.length; i++) {
            type.append(Character.toUpperCase(words[i].charAt(0))).append(words[i], 1, words[i].length());
        }
        return type.toString();
    }

    /** The event a record holds; {@link LedgerViolation} when its payload does not parse or its type does not match. */
    public static LedgerEvent decode(LedgerRecord record) {
        LedgerEvent event;
        try {
            event = LedgerEvent.parseFrom(record.payload());
        } catch (InvalidProtocolBufferException e) {
            throw new LedgerViolation("record " + record.seq() + " does not hold a ledger event: " + e.getMessage());
        }
        if (event.getEventCase() == LedgerEvent.EventCase.EVENT_NOT_SET || !type(event).equals(record.type())) {
            throw new LedgerViolation("record " + record.seq() + " has type '" + record.type() + "' but holds "
                    + event.getEventCase());
        }
        if (!event.getUnknownFields().asMap().isEmpty()) {
            throw new LedgerViolation("record " + record.seq() + " holds fields unknown to this version of Murmur");
        }
        return event;
    }
}
