package org.murmur.server.store;

import java.nio.file.Path;

/** A complete, durable update: its key and its file (never a {@code .partial}). */
public record StoredUpdate(UpdateKey key, Path path) {
}
