package org.murmur.server.grpc;

import org.murmur.proto.v1.TaskInfo;
import org.murmur.proto.v1.TaskState;
import org.murmur.server.economics.Tokens;

/** A task's {@link TaskInfo} as GetTask and CreateTask answer it, from the engine's state. */
final class TaskInfos {
    private TaskInfos() {
    }

    static TaskInfo of(org.murmur.server.round.TaskState state) {
        return TaskInfo.newBuilder()
                .setTaskId(state.taskId())
                .setParams(state.rules().toProto())
                .setCreatorId(state.creatorId())
                .setState(state.finished() ? TaskState.TASK_STATE_FINISHED : TaskState.TASK_STATE_RUNNING)
                .setCurrentRound(state.round())
                .setPhase(state.phase())
                .setPhaseDeadlineUnixMs(state.deadline())
                .setPool(Tokens.format(state.pool()))
                .setGlobalModelSha256(state.globalModel())
                .build();
    }
}
