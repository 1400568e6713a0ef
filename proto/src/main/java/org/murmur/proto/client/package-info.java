/**
 * The node client SDK: {@link org.murmur.proto.client.MurmurClient} pushes a node's update (a
 * safetensors file, signed header, 1 MiB chunks sent only while the call is ready, resumed from
 * the server's durable offset after a transport failure), puts an admin's model into the server's
 * model store the same way, and pulls models to a file (through a temporary file, resumed after
 * a transport failure, SHA-256 checked, fsynced, renamed atomically). Refusals surface as {@link org.murmur.proto.client.RefusedException}.
 */
package org.murmur.proto.client;
