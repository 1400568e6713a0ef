package org.murmur.kernels.cuda;

/** A CUDA driver call failed, or the device cannot run the kernels; the message names the call and its result. */
final class CudaFailure extends IllegalStateException {
    CudaFailure(String message) {
        super(message);
    }
}
