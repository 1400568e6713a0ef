package org.murmur.server.round;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.Executor;

/** An executor that runs nothing until told: aggregations then finish exactly where a test says. */
final class ManualExecutor implements Executor {
    private final Deque<Runnable> queue = new ArrayDeque<>();

    @Override
    public synchronized void execute(Runnable task) {
        queue.add(task);
    }

    synchronized int pending() {
        return queue.size();
    }

    /** Runs every queued task (and any they queue), in order; returns how many ran. */
    int runAll() {
        int ran = 0;
        Runnable next;
        while ((next = poll()) != null) {
            next.run();
            ran++;
        }
        return ran;
    }

    /** Drops every queued task, as a crash does. */
    synchronized void clear() {
        queue.clear();
    }

    private synchronized Runnable poll() {
        return queue.poll();
    }
}
