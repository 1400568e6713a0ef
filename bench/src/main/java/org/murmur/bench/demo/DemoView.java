package org.murmur.bench.demo;

/** Where a demo run reports as it goes; called from the run's thread only. */
interface DemoView {
    /** Shows nothing: for runs whose caller reads the {@link DemoResult}. */
    DemoView SILENT = new DemoView() {
    };

    default void started(DemoStart start) {
    }

    /** The current round moved on (a join, an update, a vote, a phase). */
    default void progress(RoundTracker.Progress progress) {
    }

    /** A round ended and its settlement is recorded. */
    default void round(RoundOutcome outcome) {
    }

    default void finished(DemoResult result) {
    }
}
