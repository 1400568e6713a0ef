package org.murmur.kernels.cuda;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import jcuda.NativePointerObject;
import jcuda.Pointer;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUevent;
import jcuda.driver.CUevent_flags;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.CUresult;
import jcuda.driver.CUstream;
import jcuda.driver.CUstream_flags;
import jcuda.driver.JCudaDriver;

/**
 * The one class that touches {@code jcuda.driver}: device 0's primary context, the kernels' module,
 * device and pinned memory, streams, events, copies and launches, each under a type of its own so
 * that nothing above this class sees a JCuda type or a device pointer. Every failing call becomes
 * a {@link CudaFailure} naming the call and its {@code CUresult}, here and nowhere else.
 *
 * <p>The context must be current on the calling thread ({@link #makeCurrent}) before any other
 * call. Not thread-safe: {@link CudaBackend} serializes its device work.
 */
final class CudaDriver implements AutoCloseable {
    /** The oldest compute capability the fatbin holds machine code for (sm_80), times ten. */
    static final int MINIMUM_COMPUTE_CAPABILITY = 80;

    private final CUdevice device;
    private final CUcontext context;
    private final CUmodule module;
    private final String description;

    private CudaDriver(CUdevice device, CUcontext context, CUmodule module, String description) {
        this.device = device;
        this.context = context;
        this.module = module;
        this.description = description;
    }

    /**
     * Initializes the driver, retains device 0's primary context and loads {@code fatbin}. Throws
     * {@link CudaFailure} when there is no usable device or the driver refuses the kernels, and
     * whatever loading JCuda's native library throws ({@link UnsatisfiedLinkError} the first time,
     * {@link NoClassDefFoundError} after).
     */
    static CudaDriver open(byte[] fatbin) {
        check(JCudaDriver.cuInit(0), "cuInit");
        int[] count = new int[1];
        check(JCudaDriver.cuDeviceGetCount(count), "cuDeviceGetCount");
        if (count[0] == 0) {
            throw new CudaFailure("the driver sees no CUDA device");
        }
        CUdevice device = new CUdevice();
        check(JCudaDriver.cuDeviceGet(device, 0), "cuDeviceGet");
        String name = deviceName(device);
        int capability = 10 * attribute(device, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR)
                + attribute(device, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
        if (capability < MINIMUM_COMPUTE_CAPABILITY) {
            throw new CudaFailure(name + " has compute capability " + capability / 10 + "." + capability % 10
                    + "; the kernels are built for 8.0 and newer");
        }
        long[] memory = new long[1];
        check(JCudaDriver.cuDeviceTotalMem(memory, device), "cuDeviceTotalMem");
        int[] driverVersion = new int[1];
        check(JCudaDriver.cuDriverGetVersion(driverVersion), "cuDriverGetVersion");
        CUcontext context = new CUcontext();
        check(JCudaDriver.cuDevicePrimaryCtxRetain(context, device), "cuDevicePrimaryCtxRetain");
        try {
            check(JCudaDriver.cuCtxSetCurrent(context), "cuCtxSetCurrent");
            CUmodule module = new CUmodule();
            check(JCudaDriver.cuModuleLoadData(module, fatbin), "cuModuleLoadData (the driver refused the kernels)");
            String description = String.format("%s, compute capability %d.%d, %.1f GiB, driver %d.%d", name,
                    capability / 10, capability % 10, memory[0] / (double) (1L << 30),
                    driverVersion[0] / 1000, driverVersion[0] % 1000 / 10);
            return new CudaDriver(device, context, module, description);
        } catch (RuntimeException | Error e) {
            JCudaDriver.cuDevicePrimaryCtxRelease(device);
            throw e;
        }
    }

    private static String deviceName(CUdevice device) {
        byte[] name = new byte[256];
        check(JCudaDriver.cuDeviceGetName(name, name.length, device), "cuDeviceGetName");
        int length = 0;
        while (length < name.length && name[length] != 0) {
            length++;
        }
        return new String(name, 0, length, StandardCharsets.UTF_8);
    }

    private static int attribute(CUdevice device, int attribute) {
        int[] value = new int[1];
        check(JCudaDriver.cuDeviceGetAttribute(value, attribute, device), "cuDeviceGetAttribute");
        return value[0];
    }

    /** The device, its compute capability, memory and driver version, in words. */
    String description() {
        return description;
    }

    /** Makes this driver's context current on the calling thread. */
    void makeCurrent() {
        check(JCudaDriver.cuCtxSetCurrent(context), "cuCtxSetCurrent");
    }

    Kernel kernel(String name) {
        CUfunction function = new CUfunction();
        check(JCudaDriver.cuModuleGetFunction(function, module, name), "cuModuleGetFunction " + name);
        return new Kernel(name, function);
    }

    DeviceMemory allocate(long bytes) {
        CUdeviceptr pointer = new CUdeviceptr();
        check(JCudaDriver.cuMemAlloc(pointer, Math.max(1, bytes)), "cuMemAlloc of " + bytes + " bytes");
        return new DeviceMemory(pointer, bytes);
    }

    /** Page-locked host memory, which the device copies from and to asynchronously. */
    PinnedMemory allocatePinned(int bytes) {
        Pointer pointer = new Pointer();
        check(JCudaDriver.cuMemHostAlloc(pointer, Math.max(1, bytes), 0), "cuMemHostAlloc of " + bytes + " bytes");
        ByteBuffer buffer = pointer.getByteBuffer(0, bytes).order(ByteOrder.LITTLE_ENDIAN);
        return new PinnedMemory(pointer, buffer);
    }

    /** A stream that does not synchronize with the legacy default stream. */
    Stream createStream() {
        CUstream stream = new CUstream();
        check(JCudaDriver.cuStreamCreate(stream, CUstream_flags.CU_STREAM_NON_BLOCKING), "cuStreamCreate");
        return new Stream(stream);
    }

    Event createEvent() {
        CUevent event = new CUevent();
        check(JCudaDriver.cuEventCreate(event, CUevent_flags.CU_EVENT_DISABLE_TIMING), "cuEventCreate");
        return new Event(event);
    }

    /**
     * Enqueues {@code kernel} on {@code stream} with a grid of {@code gridX x gridY} blocks of
     * {@code block} threads. Arguments are {@link DeviceMemory}, {@code Integer} or {@code Double},
     * in the kernel's parameter order.
     */
    void launch(Kernel kernel, int gridX, int gridY, int block, Stream stream, Object... arguments) {
        NativePointerObject[] parameters = new NativePointerObject[arguments.length];
        for (int i = 0; i < arguments.length; i++) {
            Object argument = arguments[i];
            if (argument instanceof DeviceMemory memory) {
                parameters[i] = Pointer.to(memory.pointer);
            } else if (argument instanceof Integer value) {
                parameters[i] = Pointer.to(new int[] {value});
            } else if (argument instanceof Double value) {
                parameters[i] = Pointer.to(new double[] {value});
            } else {
                throw new IllegalArgumentException("kernel argument " + i + " of " + kernel.name + ": " + argument);
            }
        }
        check(JCudaDriver.cuLaunchKernel(kernel.function, gridX, gridY, 1, block, 1, 1, 0, stream.stream,
                Pointer.to(parameters), null), "cuLaunchKernel " + kernel.name);
    }

    /** Unloads the kernels and releases the primary context; the driver is unusable afterwards. */
    @Override
    public void close() {
        JCudaDriver.cuCtxSetCurrent(context);
        JCudaDriver.cuModuleUnload(module);
        JCudaDriver.cuDevicePrimaryCtxRelease(device);
    }

    private static void check(int result, String call) {
        if (result != CUresult.CUDA_SUCCESS) {
            throw new CudaFailure(call + " failed: " + CUresult.stringFor(result));
        }
    }

    /** A kernel of the loaded module. */
    static final class Kernel {
        private final String name;
        private final CUfunction function;

        private Kernel(String name, CUfunction function) {
            this.name = name;
            this.function = function;
        }
    }

    /** Device memory of a fixed size. */
    static final class DeviceMemory implements AutoCloseable {
        private final CUdeviceptr pointer;
        private final long bytes;

        private DeviceMemory(CUdeviceptr pointer, long bytes) {
            this.pointer = pointer;
            this.bytes = bytes;
        }

        long bytes() {
            return bytes;
        }

        /** Enqueues a copy of {@code src[0, count)} to the start of this memory. */
        void copyFrom(PinnedMemory src, long count, Stream stream) {
            check(JCudaDriver.cuMemcpyHtoDAsync(pointer, src.pointer, count, stream.stream), "cuMemcpyHtoDAsync");
        }

        /** Enqueues a copy of the first {@code count} bytes of this memory to {@code dst}. */
        void copyTo(PinnedMemory dst, long count, Stream stream) {
            check(JCudaDriver.cuMemcpyDtoHAsync(dst.pointer, pointer, count, stream.stream), "cuMemcpyDtoHAsync");
        }

        /** Enqueues zeroing the whole memory. */
        void clear(Stream stream) {
            check(JCudaDriver.cuMemsetD8Async(pointer, (byte) 0, bytes, stream.stream), "cuMemsetD8Async");
        }

        /**
         * Enqueues a copy of {@code values} to the start of this memory. They pass through a
         * direct buffer, pageable memory, which the driver stages before this call returns.
         */
        void write(double[] values, Stream stream) {
            ByteBuffer staged = ByteBuffer.allocateDirect(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
            staged.asDoubleBuffer().put(values);
            check(JCudaDriver.cuMemcpyHtoDAsync(pointer, Pointer.to(staged), values.length * 8L, stream.stream),
                    "cuMemcpyHtoDAsync");
        }

        /** Copies the start of this memory into {@code values}; the device must be idle. */
        void read(double[] values) {
            check(JCudaDriver.cuMemcpyDtoH(Pointer.to(values), pointer, values.length * 8L), "cuMemcpyDtoH");
        }

        /** Copies the start of this memory into {@code values}; the device must be idle. */
        void read(int[] values) {
            check(JCudaDriver.cuMemcpyDtoH(Pointer.to(values), pointer, values.length * 4L), "cuMemcpyDtoH");
        }

        @Override
        public void close() {
            JCudaDriver.cuMemFree(pointer);
        }
    }

    /** Page-locked host memory, seen from Java as a little-endian direct buffer. */
    static final class PinnedMemory implements AutoCloseable {
        private final Pointer pointer;
        private final ByteBuffer buffer;

        private PinnedMemory(Pointer pointer, ByteBuffer buffer) {
            this.pointer = pointer;
            this.buffer = buffer;
        }

        /** The whole memory; do not touch it while a copy from or to it may be in flight. */
        ByteBuffer buffer() {
            return buffer;
        }

        @Override
        public void close() {
            JCudaDriver.cuMemFreeHost(pointer);
        }
    }

    /** An ordered queue of device work. */
    static final class Stream implements AutoCloseable {
        private final CUstream stream;

        private Stream(CUstream stream) {
            this.stream = stream;
        }

        /** Makes later work on this stream wait until {@code event} has happened. */
        void waitFor(Event event) {
            check(JCudaDriver.cuStreamWaitEvent(stream, event.event, 0), "cuStreamWaitEvent");
        }

        /** Blocks until all work enqueued so far has finished. */
        void synchronize() {
            check(JCudaDriver.cuStreamSynchronize(stream), "cuStreamSynchronize");
        }

        @Override
        public void close() {
            JCudaDriver.cuStreamDestroy(stream);
        }
    }

    /** A point in a stream's work that other streams and the host can wait for. */
    static final class Event implements AutoCloseable {
        private final CUevent event;

        private Event(CUevent event) {
            this.event = event;
        }

        /** Marks the point after the work enqueued on {@code stream} so far. */
        void record(Stream stream) {
            check(JCudaDriver.cuEventRecord(event, stream.stream), "cuEventRecord");
        }

        /** Blocks until the work before the last recorded point has finished. */
        void synchronize() {
            check(JCudaDriver.cuEventSynchronize(event), "cuEventSynchronize");
        }

        @Override
        public void close() {
            JCudaDriver.cuEventDestroy(event);
        }
    }
}
