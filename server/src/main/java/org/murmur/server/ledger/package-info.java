/**
 * The per-task event ledger's storage layer: {@link org.murmur.server.ledger.LedgerFile}, an
 * append-only file of hash-chained records holding opaque payloads, durable record by record,
 * repairing a crash-torn last record on open and refusing any other damage with a
 * {@link org.murmur.server.ledger.CorruptLedgerException}. What the payloads mean is decided above
 * this package.
 */
package org.murmur.server.ledger;
