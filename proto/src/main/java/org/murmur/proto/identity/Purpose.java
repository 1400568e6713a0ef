package org.murmur.proto.identity;

/**
 * What a signed request is for: the first field of every {@link CanonicalRequest}, so a signature
 * made for one RPC is never valid for another. One value per state-changing RPC of murmur.proto.
 */
public enum Purpose {
    CREATE_TASK("CreateTask"),
    PUT_MODEL("PutModel"),
    STAKE("Stake"),
    JOIN("Join"),
    PUSH_UPDATE("PushUpdate"),
    COMMIT_VOTE("CommitVote"),
    REVEAL_VOTE("RevealVote"),
    WITHDRAW("Withdraw");

    private final String tag;

    Purpose(String rpc) {
        this.tag = "murmur.v1/" + rpc;
    }

    /** The tag that is signed, e.g. {@code "murmur.v1/PushUpdate"}. */
    public String tag() {
        return tag;
    }

    @Override
    public String toString() {
        return tag;
    }
}
