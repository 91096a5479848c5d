using Microsoft.ML.OnnxRuntime;

namespace MoeMesh.Inference.Moe.Execution;

/// <summary>An ONNX Runtime session over one of our graphs, run with caller-owned input and output buffers.</summary>
internal sealed class OnnxGraphSession : IDisposable
{
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();

    public OnnxGraphSession(byte[] model, MoeExecutionOptions options, string[] inputNames, string[] outputNames)
    {
        using var sessionOptions = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            IntraOpNumThreads = options.Threads,
            InterOpNumThreads = 1,
        };
        sessionOptions.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        _session = new InferenceSession(model, sessionOptions);
        InputNames = inputNames;
        OutputNames = outputNames;
    }

    public string[] InputNames { get; }

    public string[] OutputNames { get; }

    /// <summary>Runs the graph; <paramref name="outputs"/> are preallocated tensors the results are written into.</summary>
    public void Run(IReadOnlyCollection<OrtValue> inputs, IReadOnlyCollection<OrtValue> outputs) =>
        _session.Run(_runOptions, InputNames, inputs, OutputNames, outputs);

    public void Dispose()
    {
        _runOptions.Dispose();
        _session.Dispose();
    }
}
