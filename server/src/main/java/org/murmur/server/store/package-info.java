/**
 * Durable on-disk stores: {@link org.murmur.server.store.UpdateStore} (one file per node update,
 * streamed in chunks, fsynced, checksummed and renamed into place only when complete; resumable
 * after a dropped connection or a crash) and {@link org.murmur.server.store.ModelStore}
 * (content-addressed safetensors files).
 *
 * <p>Crash-safety rule shared by both: a file under its final name is always complete and was
 * fsynced before the rename; the rename itself is made durable by fsyncing the directory. Anything
 * in progress lives under another name ({@code .partial}, or a hidden {@code .tmp-} name) that no
 * lookup ever returns. A data directory belongs to one server process at a time.
 *
 * <p>Domain failures are unchecked {@link org.murmur.server.store.StoreException}s, one subclass
 * per reason, each naming the update key and the numbers involved, so the gRPC layer can map each
 * to a status; real I/O failures are {@link java.io.IOException}s.
 */
package org.murmur.server.store;
