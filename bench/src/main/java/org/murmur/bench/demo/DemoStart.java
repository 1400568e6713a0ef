package org.murmur.bench.demo;

import java.nio.file.Path;

/**
 * What a demo run set up before its first round.
 *
 * @param task            the task's id
 * @param ledger          the task's ledger file
 * @param port            the server's gRPC port on the loopback interface
 * @param backend         the aggregation backend the server opened
 * @param metricsUrl      where Prometheus scrapes the server while the demo runs
 * @param fleet           the simulated nodes
 * @param initialAccuracy the initial model's accuracy on the 10,000 test images
 */
record DemoStart(DemoSettings settings, String task, Path ledger, int port, String backend, String metricsUrl,
                 Fleet fleet, double initialAccuracy) {
}
