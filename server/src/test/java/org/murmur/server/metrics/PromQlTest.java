package org.murmur.server.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PromQlTest {
    private static List<String> names(String expr) {
        return List.copyOf(PromQl.metricNames(expr));
    }

    @Test
    void aSelectorAloneOrWithMatchers() {
        assertEquals(List.of("up"), names("up"));
        assertEquals(List.of("murmur_tasks"), names("murmur_tasks{state=\"running\", instance=~\"a|b\"}"));
        assertEquals(List.of("job:rate5m"), names("job:rate5m"));
    }

    @Test
    void functionsAggregationsKeywordsAndLabelListsAreNotNames() {
        assertEquals(List.of("murmur_aggregation_duration_seconds_bucket"), names(
                "histogram_quantile(0.95, sum by (le, rule, backend) "
                        + "(rate(murmur_aggregation_duration_seconds_bucket{instance=~\"$x\"}[1h])))"));
        assertEquals(List.of("a", "b"), names("sum without (instance) (a) / ignoring (le) group_left (x) sum(b)"));
        assertEquals(List.of("a", "b", "c"), names("a > bool 0 and on () b unless c offset 5m"));
        assertEquals(List.of("a"), names("SUM BY (job) (a) > Inf or NaN"));
        assertEquals(List.of("a", "b"), names("topk(3, a) * on (x) group_right b"));
        assertEquals(List.of("a"), names("a @ start()"));
    }

    @Test
    void stringsCommentsNumbersAndRangesAreSkipped() {
        assertEquals(List.of("m"), names("label_replace(m, \"dst\", \"$1 foo\", 'src', `(.*)`) # not_a_name here\n"));
        assertEquals(List.of("m"), names("count_values(\"le\", m) * 1e-3 + 0x1f - 2.5"));
        assertEquals(List.of("m"), names("max_over_time(rate(m[5m])[1h:30s])"));
        assertEquals(List.of("m"), names("m{reason!=\"with } brace and \\\" quote\"}"));
    }

    @Test
    void aNameMatcherNamesItsMetric() {
        assertEquals(Set.of("up"), PromQl.metricNames("{__name__=\"up\", job=\"murmur\"}"));
        assertThrows(IllegalArgumentException.class, () -> PromQl.metricNames("{__name__=~\"murmur_.*\"}"));
    }

    @Test
    void malformedExpressionsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> PromQl.metricNames("a{job=\"x\""));
        assertThrows(IllegalArgumentException.class, () -> PromQl.metricNames("rate(a[5m)"));
        assertThrows(IllegalArgumentException.class, () -> PromQl.metricNames("sum by (le (a)"));
    }
}
