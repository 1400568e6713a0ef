/**
 * The gRPC front of the {@code murmur.v1.Murmur} service, upload and download path:
 * {@link org.murmur.server.grpc.UploadService} (PushUpdate, PutModel, GetUploadOffset) streams
 * proposers' updates into the durable update store and admins' models into the model store, both
 * on one resumable stream with manual flow control, and admits only what is signed, allowed (by
 * the round, or as an admin), of the announced manifest (and the task's schema), intact and finite;
 * {@link org.murmur.server.grpc.ModelService} (PullModel) streams models from the content-addressed
 * model store at the client's pace; {@link org.murmur.server.grpc.MurmurServer} wires them into a
 * server from any {@link io.grpc.ServerBuilder} with a validated
 * {@link org.murmur.server.grpc.ServerConfig}.
 *
 * <p>What the round engine decides sits behind two interfaces: {@link org.murmur.server.grpc.RoundGate}
 * (keys, schemas, whether a node may upload now, recording admitted updates) and
 * {@link org.murmur.server.grpc.ModelCatalog} (which file is a task's global model or a round's
 * candidate); {@link org.murmur.server.grpc.StaticRoundGate} and
 * {@link org.murmur.server.grpc.InMemoryModelCatalog} are in-memory implementations driven by hand.
 *
 * <p>Every refusal is a {@link org.murmur.server.grpc.Refusal}: a {@code RefusalReason}, whose status
 * code follows murmur.proto's table, a description the node can act on, the {@code murmur-refusal}
 * trailer, a counted metric ({@link org.murmur.server.grpc.GrpcMetrics}) and one log line.
 */
package org.murmur.server.grpc;
