package org.murmur.server.metrics;

import com.google.protobuf.ByteString;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import org.murmur.proto.ledger.v1.Contributed;
import org.murmur.server.economics.TaskRules;
import org.murmur.server.round.CandidateMaker;

/**
 * A {@link CandidateMaker} that measures the one it wraps: aggregation time by rule and backend
 * (a histogram), bytes of updates aggregated, and aggregations that failed by outcome (the rule
 * refused the round's updates, or an error to be retried). A rule's failure counters exist, at zero,
 * from its first aggregation on, so that a rate or an alert over them sees the first failure.
 * Thread-safe.
 */
public final class MeasuredCandidateMaker implements CandidateMaker {
    public static final String DURATION = "murmur.aggregation.duration";
    public static final String BYTES = "murmur.aggregation.bytes";
    public static final String UPDATES = "murmur.aggregation.updates";
    public static final String FAILURES = "murmur.aggregation.failures";

    private final CandidateMaker inner;
    private final String backend;
    private final MeterRegistry meters;

    public MeasuredCandidateMaker(CandidateMaker inner, String backend, MeterRegistry meters) {
        this.inner = Objects.requireNonNull(inner, "inner");
        this.backend = Objects.requireNonNull(backend, "backend");
        this.meters = Objects.requireNonNull(meters, "meters");
    }

    @Override
    public Candidate make(String taskId, long round, TaskRules rules, List<Contributed> contributions,
                          ByteString previousGlobal) throws Exception {
        String rule = rules.ruleName();
        Counter refused = failure(rule, "refused");
        Counter error = failure(rule, "error");
        long started = System.nanoTime();
        try {
            Candidate candidate = inner.make(taskId, round, rules, contributions, previousGlobal);
            timer(rule).record(Duration.ofNanos(System.nanoTime() - started));
            long bytes = 0;
            for (Contributed c : contributions) {
                bytes += c.getBytes();
            }
            Counter.builder(BYTES).tags("rule", rule, "backend", backend).baseUnit("bytes")
                    .description("Update bytes aggregated").register(meters).increment(bytes);
            Counter.builder(UPDATES).tags("rule", rule, "backend", backend)
                    .description("Updates aggregated").register(meters).increment(contributions.size());
            return candidate;
        } catch (RoundFailedException e) {
            refused.increment();
            throw e;
        } catch (Exception e) {
            error.increment();
            throw e;
        }
    }

    private Timer timer(String rule) {
        return Timer.builder(DURATION).tags("rule", rule, "backend", backend)
                .description("Time to aggregate a round's updates into its candidate, stored")
                .publishPercentileHistogram().minimumExpectedValue(Duration.ofMillis(1))
                .maximumExpectedValue(Duration.ofMinutes(30)).register(meters);
    }

    private Counter failure(String rule, String outcome) {
        return Counter.builder(FAILURES).tags("rule", rule, "backend", backend, "outcome", outcome)
                .description("Aggregations that failed: refused by the rule (the round fails) or an error (retried)")
                .register(meters);
    }
}
