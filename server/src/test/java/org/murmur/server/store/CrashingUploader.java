package org.murmur.server.store;

import java.nio.file.Path;

/**
 * Child-JVM entry point for {@link UpdateStoreCrashTest}: writes part of an upload, syncs, reports
 * the durable offset on stdout, then keeps writing (unsynced, slowly) until it is SIGKILLed.
 * Arguments: dataDir totalBytes syncAt seed.
 */
public final class CrashingUploader {
    private CrashingUploader() {
    }

    public static void main(String[] args) throws Exception {
        Path dataDir = Path.of(args[0]);
        long total = Long.parseLong(args[1]);
        long syncAt = Long.parseLong(args[2]);
        int seed = Integer.parseInt(args[3]);
        UpdateStore store = new UpdateStore(dataDir, 0);
        Upload upload = store.begin(UpdateStoreCrashTest.KEY, total, StoreFixtures.sha256(total, seed));
        StoreFixtures.writeRange(upload, 0, syncAt, seed);
        upload.sync();
        System.out.println("SYNCED " + upload.durableOffset());
        System.out.flush();
        boolean announced = false;
        // Never completes: stops one chunk short of the total and waits to be killed.
        for (long offset = syncAt; offset + StoreFixtures.CHUNK < total; offset += StoreFixtures.CHUNK) {
            upload.write(offset, StoreFixtures.chunk(offset, StoreFixtures.CHUNK, seed));
            if (!announced) {
                System.out.println("WRITING");
                System.out.flush();
                announced = true;
            }
            Thread.sleep(1);
        }
        System.out.println("WAITING");
        System.out.flush();
        Thread.sleep(60_000);
    }
}
