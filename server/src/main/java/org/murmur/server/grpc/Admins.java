package org.murmur.server.grpc;

import java.util.Set;
import org.murmur.proto.identity.NodeId;
import org.murmur.proto.v1.RefusalReason;

/**
 * The node ids this server treats as admins ({@link ServerConfig#admins()}): they create tasks
 * and upload models. Admins are not staked nodes, so their requests carry their public key.
 * Immutable.
 */
final class Admins {
    private final Set<NodeId> ids;

    Admins(Set<NodeId> ids) {
        this.ids = Set.copyOf(ids);
    }

    /**
     * @param what what only admins may do, for the refusal ("create tasks")
     * @throws Refusal NOT_ADMIN when {@code node} is not an admin
     */
    void require(NodeId node, String what) throws Refusal {
        if (!ids.contains(node)) {
            throw new Refusal(RefusalReason.NOT_ADMIN, "node " + node + " is not an admin of this server: only"
                    + " admins may " + what + (ids.isEmpty() ? " (none is configured: start the server with"
                    + " --admin)" : ""));
        }
    }
}
