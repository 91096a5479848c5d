using Microsoft.ML.OnnxRuntime;

namespace MoeMesh.Inference.Moe.Execution;

/// <summary>OrtValues over managed buffers, so ONNX Runtime reads and writes our arrays in place.</summary>
internal static class OrtTensors
{
    /// <summary>A float tensor over <paramref name="memory"/> (empty tensors get their own zero-size allocation).</summary>
    public static OrtValue Over(Memory<float> memory, params long[] shape) => memory.IsEmpty
        ? OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, Microsoft.ML.OnnxRuntime.Tensors.TensorElementType.Float, shape)
        : OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, memory, shape);
}
