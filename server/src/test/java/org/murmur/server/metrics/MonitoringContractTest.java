package org.murmur.server.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.File;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.murmur.proto.client.PullRequest;
import org.murmur.proto.client.RefusedException;
import org.murmur.proto.client.RoundClient;
import org.murmur.proto.client.UpdateUpload;
import org.murmur.proto.v1.RoundResult;
import org.murmur.proto.v1.TaskParams;
import org.murmur.server.economics.Tokens;
import org.murmur.server.round.TaskDriver;

/**
 * The files of monitoring/ against a real server and a real Prometheus. A whole server with its
 * /metrics endpoint runs a two-round task (an accepted round, then one its voters reject, with
 * slashes, removals and a refusal of each kind) while Debian's {@code prometheus} scrapes it every
 * second with the alert rules loaded. Then: every PromQL expression of every dashboard (Grafana's
 * variables substituted) is valid and returns data; every alert rule loads, evaluates without
 * error and is annotated, and the rejected round fires its alert; every metric a dashboard or a
 * rule names is one the server exports (found by {@link PromQl}'s tokenizer); promtool checks the
 * configuration and the rules and runs the rules' unit tests; the dashboards are ready for
 * provisioning with any Prometheus data source; and monitoring/README.md lists every Murmur metric.
 *
 * <p>The checks that need no Prometheus always run. The others are skipped when {@code prometheus}
 * or {@code promtool} is not on the PATH, unless MURMUR_REQUIRE_PROMETHEUS=1, where they fail.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MonitoringContractTest {
    private static final String INSTALL = "on Debian 12: apt-get install prometheus";
    private static final String TASK = "monitored";
    private static final Duration WAIT = Duration.ofSeconds(30);
    /** Grafana units the panels may use. */
    private static final Set<String> UNITS = Set.of("bytes", "Bps", "s", "percentunit", "short", "ops", "reqps");
    /** Series Prometheus makes itself, not the server. */
    private static final Set<String> PROMETHEUS_SERIES = Set.of("up", "scrape_duration_seconds",
            "scrape_samples_scraped", "scrape_samples_post_metric_relabeling", "scrape_series_added", "ALERTS",
            "ALERTS_FOR_STATE");
    /** What Grafana would put in place of each variable, for a query at the end of the test's task. */
    private static final Map<String, String> GRAFANA_VARIABLES = Map.of("__rate_interval", "1m", "__interval", "15s",
            "__range", "1h", "instance", ".+");
    private static final Pattern VARIABLE = Pattern.compile("\\$\\{(\\w+)(?::\\w+)?}|\\$(\\w+)");
    private static final Pattern LABEL_VALUES = Pattern.compile("label_values\\((.+),\\s*(\\w+)\\s*\\)");
    private static final String DATASOURCE = "${datasource}";
    /** All voters score the candidate -1, whatever it is worth: the round is rejected and its proposers slashed. */
    private static final TaskDriver.Behaviour VOTE_AGAINST = new TaskDriver.Behaviour() {
        @Override
        public int score(int node, long round, int honest) {
            return -1;
        }
    };

    @TempDir
    static Path dir;

    private Path monitoring;
    private String problem;
    private Path prometheusBin;
    private Path promtoolBin;
    private PrometheusMeterRegistry meters;
    private ProcessMetrics process;
    private TaskDriver driver;
    private MetricsEndpoint endpoint;
    private Process prometheus;
    private Path prometheusLog;
    private int prometheusPort;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private String scrape;
    private Set<String> exported;

    /** One PromQL expression of a dashboard, and where it is. */
    private record Expression(String where, String promql, boolean mustReturnData) {
    }

    @BeforeAll
    void runATaskWhilePrometheusScrapes() throws Exception {
        monitoring = locateMonitoring();
        prometheusBin = onPath("prometheus");
        promtoolBin = onPath("promtool");
        if (prometheusBin == null || promtoolBin == null) {
            problem = (prometheusBin == null ? "prometheus" : "promtool") + " is not on the PATH (" + INSTALL + ")";
        }
        meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        process = new ProcessMetrics(meters);
        driver = TaskDriver.start(Files.createDirectories(dir.resolve("task")), 4, meters);
        endpoint = MetricsEndpoint.start(0, meters);
        if (problem == null) {
            startPrometheus();
            awaitScrapes(1);
        }
        runTask();
        awaitGcPauseMeter();
        if (problem == null) {
            // Two samples of every series the task made, for rate(): three more scrapes, as the first
            // may have read the endpoint before the task's last meters existed.
            awaitScrapes(scrapes() + 3);
        }
        scrape = get(URI.create("http://127.0.0.1:" + endpoint.port() + "/metrics"));
        exported = scrape.lines().filter(line -> !line.isBlank() && !line.startsWith("#"))
                .map(line -> line.split("[{ ]", 2)[0]).collect(Collectors.toCollection(TreeSet::new));
        writeMetricList();
    }

    /**
     * Four nodes, two rounds: round 0 honest (accepted, rewards), round 1 voted down (rejected; its
     * proposers lose half their stake and fall below min_stake). A non-admin's CreateTask, a late
     * update and a download of a candidate that does not exist are refused; everyone withdraws.
     */
    private void runTask() throws Exception {
        TaskParams params = driver.params(2).setMinParticipants(4).setProposerFraction("0.5")
                .setMinStake(Tokens.format(Tokens.of(10))).setSlashFraction("0.5").build();
        assertThrows(RefusedException.class, () -> driver.client(0).createTask(TASK, params));
        driver.creator().createTask(TASK, params);
        driver.stakeAll(TASK, Tokens.of(15));
        assertEquals(RoundResult.ROUND_RESULT_ACCEPTED, driver.play(TASK, 0, TaskDriver.HONEST).result());
        assertEquals(RoundResult.ROUND_RESULT_REJECTED, driver.play(TASK, 1, VOTE_AGAINST).result());
        Path late = driver.writeModel("late.safetensors", new float[TaskDriver.DIM]);
        assertThrows(RefusedException.class,
                () -> driver.transfers().pushUpdate(new UpdateUpload(driver.keys(0), TASK, 0, late, 1)));
        assertThrows(RefusedException.class,
                () -> driver.transfers().pullModel(PullRequest.candidate(TASK, 7), dir.resolve("none.safetensors")));
        for (RoundClient client : driver.clients()) {
            client.withdraw(TASK);
        }
    }

    /**
     * Collects garbage, so that the GC pause meters exist whatever the task allocated, and waits
     * for them: they appear when the JVM's notification of the collection arrives, a little later.
     */
    private void awaitGcPauseMeter() throws InterruptedException {
        System.gc();
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (meters.find("jvm.gc.pause").timers().isEmpty()) {
            if (System.nanoTime() > deadline) {
                fail("no jvm.gc.pause meter " + WAIT + " after System.gc()");
            }
            Thread.sleep(20);
        }
    }

    @AfterAll
    void stop() throws InterruptedException {
        if (prometheus != null) {
            prometheus.destroy();
            if (!prometheus.waitFor(10, TimeUnit.SECONDS)) {
                prometheus.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
        if (endpoint != null) {
            endpoint.close();
        }
        if (driver != null) {
            driver.close();
        }
        if (process != null) {
            process.close();
        }
    }

    // -----------------------------------------------------------------------------------------
    // Without Prometheus

    @Test
    void dashboardsAreReadyForProvisioningWithAnyPrometheusDataSource() throws IOException {
        List<Path> files = dashboards();
        assertTrue(files.size() >= 2, "dashboards: " + files);
        Set<String> uids = new LinkedHashSet<>();
        List<String> problems = new ArrayList<>();
        for (Path file : files) {
            Map<String, Object> dashboard = Json.object(Json.parse(Files.readString(file)));
            String name = file.getFileName().toString();
            assertFalse(dashboard.containsKey("__inputs"), name + ": __inputs is for imports; provisioning takes none");
            assertTrue(uids.add((String) dashboard.get("uid")), name + ": uid missing or not unique");
            assertNotNull(dashboard.get("title"), name);
            Map<String, Object> datasourceVariable = variables(dashboard).stream()
                    .filter(v -> "datasource".equals(v.get("name"))).findFirst()
                    .orElseThrow(() -> new AssertionError(name + ": no $datasource variable"));
            assertEquals("datasource", datasourceVariable.get("type"), name);
            assertEquals("prometheus", datasourceVariable.get("query"), name);
            datasourceReferences(dashboard, name, problems);
            Set<Object> ids = new LinkedHashSet<>();
            for (Map<String, Object> panel : panels(dashboard)) {
                String where = name + " / " + panel.get("title");
                if (!ids.add(panel.get("id"))) {
                    problems.add(where + ": panel id " + panel.get("id") + " is not unique");
                }
                Map<String, Object> grid = Json.object(panel.get("gridPos"));
                if (((Number) grid.get("x")).intValue() + ((Number) grid.get("w")).intValue() > 24) {
                    problems.add(where + ": wider than the grid's 24 columns");
                }
                if ("row".equals(panel.get("type"))) {
                    continue;
                }
                if (!(panel.get("description") instanceof String d) || d.isBlank()) {
                    problems.add(where + ": no description");
                }
                Object unit = Json.object(Json.object(panel.get("fieldConfig")).get("defaults")).get("unit");
                if (!UNITS.contains(unit)) {
                    problems.add(where + ": unit " + unit + " is not one of " + UNITS);
                }
                List<Object> targets = Json.array(panel.get("targets"));
                if (targets.isEmpty()) {
                    problems.add(where + ": no query");
                }
                Set<Object> refIds = new LinkedHashSet<>();
                for (Object target : targets) {
                    Map<String, Object> t = Json.object(target);
                    if (!(t.get("expr") instanceof String e) || e.isBlank()) {
                        problems.add(where + ": a query without expr");
                    }
                    if (!refIds.add(t.get("refId"))) {
                        problems.add(where + ": refId " + t.get("refId") + " is not unique");
                    }
                }
            }
        }
        assertNone(problems, "dashboards not ready for provisioning");
        Path provisioning = monitoring.resolve("grafana/provisioning");
        assertTrue(Files.readString(provisioning.resolve("dashboards/murmur.yml")).contains("type: file"));
        assertTrue(Files.readString(provisioning.resolve("datasources/prometheus.yml")).contains("type: prometheus"));
    }

    @Test
    void dashboardsNameOnlyMetricsTheServerExports() throws IOException {
        Map<String, Set<String>> unknown = new TreeMap<>();
        Set<String> named = new TreeSet<>();
        for (Expression expression : dashboardExpressions()) {
            for (String metric : PromQl.metricNames(expression.promql())) {
                named.add(metric);
                if (!exported.contains(metric) && !PROMETHEUS_SERIES.contains(metric)) {
                    unknown.computeIfAbsent(metric, m -> new TreeSet<>()).add(expression.where());
                }
            }
        }
        assertTrue(named.size() > 30, "the dashboards name " + named);
        assertEquals(Map.of(), unknown, "metrics the dashboards name and the server does not export");
    }

    @Test
    void readmeListsEveryMurmurMetric() throws IOException {
        String readme = Files.readString(monitoring.resolve("README.md"));
        Map<String, String> all = families();
        // A timer's or a summary's _max is a gauge family of its own; the README lists it with its histogram.
        Set<String> families = all.keySet().stream()
                .filter(name -> name.startsWith("murmur_") || name.startsWith("grpc_server_"))
                .filter(name -> !(name.endsWith("_max") && all.containsKey(name.substring(0, name.length() - 4))))
                .collect(Collectors.toCollection(TreeSet::new));
        Set<String> missing = families.stream().filter(name -> !readme.contains("`" + name + "`"))
                .collect(Collectors.toCollection(TreeSet::new));
        assertEquals(Set.of(), missing, "metrics missing from monitoring/README.md (see target/monitoring-metrics.md)");
        Matcher listed = Pattern.compile("`((?:murmur|grpc_server|jvm|process|system)_[a-z0-9_]+)`").matcher(readme);
        Set<String> stale = new TreeSet<>();
        while (listed.find()) {
            if (!exported.contains(listed.group(1)) && !all.containsKey(listed.group(1))) {
                stale.add(listed.group(1));
            }
        }
        assertEquals(Set.of(), stale, "metrics monitoring/README.md names and the server does not export");
    }

    // -----------------------------------------------------------------------------------------
    // With Prometheus

    @Test
    void everyDashboardQueryRunsInPrometheusAndReturnsData() throws Exception {
        requirePrometheus();
        List<String> problems = new ArrayList<>();
        int queries = 0;
        for (Expression expression : dashboardExpressions()) {
            Map<String, Object> answer = query(expression.promql());
            queries++;
            if (!"success".equals(answer.get("status"))) {
                problems.add(expression.where() + ": " + answer.get("errorType") + ": " + answer.get("error")
                        + "\n    " + expression.promql());
            } else if (expression.mustReturnData() && result(answer).isEmpty()) {
                problems.add(expression.where() + ": no data\n    " + expression.promql());
            }
        }
        assertNone(problems, "dashboard queries that fail or return nothing in " + prometheusUrl());
        assertTrue(queries > 50, queries + " queries");
    }

    @Test
    void alertRulesLoadEvaluateAndOnlyTheRejectedRoundFires() throws Exception {
        requirePrometheus();
        List<Map<String, Object>> rules = awaitRulesEvaluated();
        assertTrue(rules.size() >= 6, "rules: " + rules);
        List<String> problems = new ArrayList<>();
        for (Map<String, Object> rule : rules) {
            String name = (String) rule.get("name");
            String promql = (String) rule.get("query");
            if (!"alerting".equals(rule.get("type"))) {
                problems.add(name + ": not an alerting rule");
            }
            if (!"ok".equals(rule.get("health"))) {
                problems.add(name + ": " + rule.get("health") + ": " + rule.get("lastError"));
            }
            Object severity = Json.object(rule.get("labels")).get("severity");
            if (!"critical".equals(severity) && !"warning".equals(severity)) {
                problems.add(name + ": severity " + severity + ", not critical or warning");
            }
            Map<String, Object> annotations = Json.object(rule.get("annotations"));
            for (String annotation : List.of("summary", "description")) {
                if (!(annotations.get(annotation) instanceof String text) || text.isBlank()) {
                    problems.add(name + ": no " + annotation);
                }
            }
            Map<String, Object> answer = query(promql);
            if (!"success".equals(answer.get("status"))) {
                problems.add(name + ": " + answer.get("error"));
            }
            for (String metric : PromQl.metricNames(promql)) {
                if (!exported.contains(metric) && !PROMETHEUS_SERIES.contains(metric)) {
                    problems.add(name + ": names " + metric + ", which the server does not export");
                }
            }
        }
        assertNone(problems, "alert rules");

        Set<String> firing = awaitFiring(names -> names.contains("MurmurRoundRejected"));
        assertEquals(Set.of("MurmurRoundRejected"), firing, "alerts firing after a task with one rejected round");
    }

    @Test
    void promtoolChecksTheConfigurationTheRulesAndTheirUnitTests() throws Exception {
        requirePrometheus();
        Path prometheusDir = monitoring.resolve("prometheus");
        for (List<String> check : List.of(List.of("check", "config", "prometheus.yml"),
                List.of("check", "rules", "alerts.yml"), List.of("test", "rules", "alerts-test.yml"))) {
            List<String> command = new ArrayList<>(List.of(promtoolBin.toString()));
            command.addAll(check);
            Process run = new ProcessBuilder(command).directory(prometheusDir.toFile()).redirectErrorStream(true)
                    .start();
            String output = new String(run.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(run.waitFor(60, TimeUnit.SECONDS), "promtool " + check + " did not end");
            assertEquals(0, run.exitValue(), "promtool " + String.join(" ", check) + ":\n" + output);
            assertTrue(output.contains("SUCCESS"), output);
        }
    }

    // -----------------------------------------------------------------------------------------
    // Dashboards

    private List<Path> dashboards() throws IOException {
        try (Stream<Path> files = Files.list(monitoring.resolve("grafana/dashboards"))) {
            return files.filter(f -> f.toString().endsWith(".json")).sorted().toList();
        }
    }

    private static void assertNone(List<String> problems, String what) {
        assertTrue(problems.isEmpty(), () -> what + ":\n  " + String.join("\n  ", problems));
    }

    private static List<Map<String, Object>> variables(Map<String, Object> dashboard) {
        Object templating = dashboard.get("templating");
        return templating == null ? List.of()
                : Json.array(Json.object(templating).get("list")).stream().map(Json::object).toList();
    }

    /** Every panel, those inside collapsed rows included. */
    private static List<Map<String, Object>> panels(Map<String, Object> dashboard) {
        List<Map<String, Object>> all = new ArrayList<>();
        for (Object p : Json.array(dashboard.get("panels"))) {
            Map<String, Object> panel = Json.object(p);
            all.add(panel);
            for (Object inner : Json.array(panel.get("panels"))) {
                all.add(Json.object(inner));
            }
        }
        return all;
    }

    /** Every data source a dashboard names, anywhere in it, must be its $datasource variable (or Grafana's own). */
    private static void datasourceReferences(Object node, String where, List<String> problems) {
        if (node instanceof Map<?, ?> map) {
            for (Map.Entry<?, ?> entry : map.entrySet()) {
                if ("datasource".equals(entry.getKey()) && entry.getValue() instanceof Map<?, ?> ref) {
                    Object uid = ref.get("uid");
                    if (!DATASOURCE.equals(uid) && !"-- Grafana --".equals(uid)) {
                        problems.add(where + ": a data source with uid " + uid + " instead of " + DATASOURCE);
                    }
                } else if ("datasource".equals(entry.getKey()) && entry.getValue() instanceof String name
                        && !DATASOURCE.equals(name)) {
                    problems.add(where + ": data source " + name + " instead of " + DATASOURCE);
                }
                datasourceReferences(entry.getValue(), where, problems);
            }
        } else if (node instanceof List<?> list) {
            for (Object item : list) {
                datasourceReferences(item, where, problems);
            }
        }
    }

    /**
     * Every PromQL expression of every dashboard with Grafana's variables substituted: the panels'
     * queries (which must return data after the task), the variables' label_values selectors
     * (likewise), and the annotation queries (conditions: only valid).
     */
    private List<Expression> dashboardExpressions() throws IOException {
        List<Expression> expressions = new ArrayList<>();
        for (Path file : dashboards()) {
            String name = file.getFileName().toString();
            Map<String, Object> dashboard = Json.object(Json.parse(Files.readString(file)));
            for (Map<String, Object> panel : panels(dashboard)) {
                for (Object target : Json.array(panel.get("targets"))) {
                    Map<String, Object> t = Json.object(target);
                    expressions.add(new Expression(name + " / " + panel.get("title") + " / " + t.get("refId"),
                            substitute((String) t.get("expr")), true));
                }
            }
            for (Map<String, Object> variable : variables(dashboard)) {
                if ("query".equals(variable.get("type"))) {
                    Object query = variable.get("query");
                    String text = query instanceof Map<?, ?> q ? (String) q.get("query") : (String) query;
                    Matcher labelValues = LABEL_VALUES.matcher(text);
                    assertTrue(labelValues.matches(), name + ": variable " + variable.get("name") + ": " + text);
                    expressions.add(new Expression(name + " / variable " + variable.get("name"),
                            substitute(labelValues.group(1)), true));
                }
            }
            Object annotations = dashboard.get("annotations");
            for (Object a : annotations == null ? List.of() : Json.array(Json.object(annotations).get("list"))) {
                Map<String, Object> annotation = Json.object(a);
                if (annotation.get("expr") instanceof String expr) {
                    expressions.add(new Expression(name + " / annotation " + annotation.get("name"),
                            substitute(expr), false));
                }
            }
        }
        return expressions;
    }

    private static String substitute(String expr) {
        assertFalse(expr.contains("[["), "Grafana's deprecated [[variable]] syntax: " + expr);
        Matcher matcher = VARIABLE.matcher(expr);
        StringBuilder out = new StringBuilder();
        while (matcher.find()) {
            String variable = matcher.group(1) != null ? matcher.group(1) : matcher.group(2);
            String value = GRAFANA_VARIABLES.get(variable);
            if (value == null) {
                fail("a Grafana variable the test does not know, $" + variable + ", in: " + expr);
            }
            matcher.appendReplacement(out, Matcher.quoteReplacement(value));
        }
        matcher.appendTail(out);
        return out.toString();
    }

    // -----------------------------------------------------------------------------------------
    // The scrape

    /** Metric families of the scrape: name to "type: help". */
    private Map<String, String> families() {
        Map<String, String> types = new TreeMap<>();
        Map<String, String> help = new TreeMap<>();
        for (String line : scrape.lines().toList()) {
            String[] parts = line.split(" ", 4);
            if (line.startsWith("# TYPE ") && parts.length >= 4) {
                types.put(parts[2], parts[3]);
            } else if (line.startsWith("# HELP ") && parts.length >= 4) {
                help.put(parts[2], parts[3]);
            }
        }
        Map<String, String> families = new TreeMap<>();
        types.forEach((name, type) -> families.put(name, type + ": " + help.getOrDefault(name, "")));
        return families;
    }

    /** target/monitoring-metrics.md: the server's metric families as a Markdown table, for the README. */
    private void writeMetricList() throws IOException {
        StringBuilder table = new StringBuilder("| metric | type | meaning |\n| --- | --- | --- |\n");
        families().forEach((name, typeAndHelp) -> {
            String[] parts = typeAndHelp.split(": ", 2);
            table.append("| `").append(name).append("` | ").append(parts[0]).append(" | ").append(parts[1])
                    .append(" |\n");
        });
        Path target = Path.of("target");
        if (Files.isDirectory(target)) {
            Files.writeString(target.resolve("monitoring-metrics.md"), table);
        }
    }

    // -----------------------------------------------------------------------------------------
    // Prometheus

    private void requirePrometheus() {
        if (problem != null) {
            String message = "the Prometheus checks cannot run: " + problem;
            if ("1".equals(System.getenv("MURMUR_REQUIRE_PROMETHEUS"))) {
                fail(message + " (MURMUR_REQUIRE_PROMETHEUS=1)");
            }
            Assumptions.abort(message + "; set MURMUR_REQUIRE_PROMETHEUS=1 to fail instead");
        }
    }

    /**
     * Starts prometheus on a free loopback port with the shipped prometheus.yml, changed only to
     * scrape this test's endpoint every second, evaluate the rules every second and load the
     * shipped alerts.yml by its absolute path; its data goes to the test's temporary directory.
     */
    private void startPrometheus() throws Exception {
        String shipped = Files.readString(monitoring.resolve("prometheus/prometheus.yml"));
        String config = replaceOnce(shipped, "scrape_interval: 15s", "scrape_interval: 1s");
        config = replaceOnce(config, "evaluation_interval: 15s", "evaluation_interval: 1s");
        config = replaceOnce(config, "- alerts.yml", "- '" + monitoring.resolve("prometheus/alerts.yml") + "'");
        config = replaceOnce(config, "localhost:9464", "127.0.0.1:" + endpoint.port());
        Path configFile = Files.writeString(dir.resolve("prometheus.yml"), config);
        prometheusPort = freePort();
        prometheusLog = dir.resolve("prometheus.log");
        prometheus = new ProcessBuilder(prometheusBin.toString(), "--config.file=" + configFile,
                "--storage.tsdb.path=" + Files.createDirectories(dir.resolve("prometheus-data")),
                "--web.listen-address=127.0.0.1:" + prometheusPort)
                .redirectErrorStream(true).redirectOutput(prometheusLog.toFile()).start();
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (true) {
            if (!prometheus.isAlive()) {
                fail("prometheus exited with " + prometheus.exitValue() + ":\n" + prometheusLogTail());
            }
            try {
                HttpResponse<String> ready = http.send(HttpRequest.newBuilder(URI.create(prometheusUrl() + "/-/ready"))
                        .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
                if (ready.statusCode() == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            if (System.nanoTime() > deadline) {
                fail("prometheus was not ready in " + WAIT + ":\n" + prometheusLogTail());
            }
            Thread.sleep(100);
        }
    }

    private static String replaceOnce(String text, String from, String to) {
        int at = text.indexOf(from);
        assertTrue(at >= 0 && text.indexOf(from, at + 1) < 0, "prometheus.yml should hold '" + from + "' once");
        return text.substring(0, at) + to + text.substring(at + from.length());
    }

    private String prometheusUrl() {
        return "http://127.0.0.1:" + prometheusPort;
    }

    private String prometheusLogTail() {
        try {
            List<String> lines = Files.readAllLines(prometheusLog);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    /** Successful scrapes of the server so far. */
    private long scrapes() throws Exception {
        List<Object> result = result(query("sum_over_time(up{job=\"murmur\"}[1h])"));
        return result.isEmpty() ? 0 : Math.round(sample(result.get(0)));
    }

    private void awaitScrapes(long count) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (scrapes() < count) {
            if (System.nanoTime() > deadline) {
                fail("prometheus did not scrape the server " + count + " times in " + WAIT + ": "
                        + get(URI.create(prometheusUrl() + "/api/v1/targets")) + "\n" + prometheusLogTail());
            }
            Thread.sleep(100);
        }
    }

    /** The alerting rules once each has been evaluated after the task (they run every second). */
    private List<Map<String, Object>> awaitRulesEvaluated() throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (true) {
            List<Map<String, Object>> rules = new ArrayList<>();
            Map<String, Object> data = Json.object(api("/api/v1/rules").get("data"));
            for (Object group : Json.array(data.get("groups"))) {
                for (Object rule : Json.array(Json.object(group).get("rules"))) {
                    rules.add(Json.object(rule));
                }
            }
            boolean evaluated = !rules.isEmpty() && rules.stream()
                    .noneMatch(r -> String.valueOf(r.get("lastEvaluation")).startsWith("0001-"));
            if (evaluated || System.nanoTime() > deadline) {
                return rules;
            }
            Thread.sleep(200);
        }
    }

    /** The names of the firing alerts, once {@code done} holds of them or {@link #WAIT} has passed. */
    private Set<String> awaitFiring(Predicate<Set<String>> done) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (true) {
            Set<String> firing = new TreeSet<>();
            for (Object alert : Json.array(Json.object(api("/api/v1/alerts").get("data")).get("alerts"))) {
                Map<String, Object> a = Json.object(alert);
                if ("firing".equals(a.get("state"))) {
                    firing.add((String) Json.object(a.get("labels")).get("alertname"));
                }
            }
            if (done.test(firing) || System.nanoTime() > deadline) {
                return firing;
            }
            Thread.sleep(200);
        }
    }

    /** An instant query at the present; the answer whatever its status (an invalid query is a 400). */
    private Map<String, Object> query(String promql) throws Exception {
        URI uri = URI.create(prometheusUrl() + "/api/v1/query?query="
                + URLEncoder.encode(promql, StandardCharsets.UTF_8));
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
        return Json.object(Json.parse(response.body()));
    }

    private Map<String, Object> api(String path) throws Exception {
        Map<String, Object> answer = Json.object(Json.parse(get(URI.create(prometheusUrl() + path))));
        assertEquals("success", answer.get("status"), path + ": " + answer);
        return answer;
    }

    private static List<Object> result(Map<String, Object> answer) {
        return Json.array(Json.object(answer.get("data")).get("result"));
    }

    private static double sample(Object vectorElement) {
        List<Object> value = Json.array(Json.object(vectorElement).get("value"));
        return Double.parseDouble((String) value.get(1));
    }

    private String get(URI uri) throws Exception {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode(), uri + ": " + response.body());
        return response.body();
    }

    // -----------------------------------------------------------------------------------------
    // The machine

    private static Path locateMonitoring() {
        for (Path at = Path.of("").toAbsolutePath(); at != null; at = at.getParent()) {
            Path monitoring = at.resolve("monitoring");
            if (Files.isRegularFile(monitoring.resolve("prometheus/alerts.yml"))) {
                return monitoring;
            }
        }
        throw new AssertionError("no monitoring/ above " + Path.of("").toAbsolutePath());
    }

    private static Path onPath(String program) {
        for (String entry : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            Path candidate = Path.of(entry.isEmpty() ? "." : entry, program);
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        return null;
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }
}
