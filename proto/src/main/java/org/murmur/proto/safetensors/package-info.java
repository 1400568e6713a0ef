/**
 * Reading and writing safetensors files: a strictly validated, memory-mapped reader
 * ({@link org.murmur.proto.safetensors.SafetensorsFile}) and an atomic writer
 * ({@link org.murmur.proto.safetensors.SafetensorsWriter}). Tensor bytes are handed over raw and
 * little-endian; this package does no float conversion.
 */
package org.murmur.proto.safetensors;
