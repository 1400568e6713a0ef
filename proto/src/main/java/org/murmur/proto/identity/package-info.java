/**
 * Node identity and request signing: Ed25519 key pairs ({@link org.murmur.proto.identity.NodeKeys}),
 * node ids derived from public keys ({@link org.murmur.proto.identity.NodeId}), the canonical bytes
 * of a state-changing request ({@link org.murmur.proto.identity.CanonicalRequest},
 * {@link org.murmur.proto.identity.CanonicalPayload}), and signing and verifying them
 * ({@link org.murmur.proto.identity.RequestSigner}, {@link org.murmur.proto.identity.SignatureVerifier}).
 * JDK cryptography only. Replay protection (remembering nonces) belongs to the server.
 */
package org.murmur.proto.identity;
