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

    /// <summary>Binds a one-input, one-output graph's tensors once, for <see cref="Run(OrtIoBinding)"/> to reuse.</summary>
    public OrtIoBinding Bind(OrtValue input, OrtValue output)
    {
        var binding = _session.CreateIoBinding();
        try
        {
            binding.BindInput(InputNames[0], input);
            binding.BindOutput(OutputNames[0], output);
            return binding;
        }
        catch
        {
            binding.Dispose();
            throw;
        }
    }

    /// <summary>Runs the graph over the tensors <paramref name="binding"/> holds; the outputs are written in place.</summary>
    public void Run(OrtIoBinding binding) => _session.RunWithBinding(_runOptions, binding);

    public void Dispose()
    {
        _runOptions.Dispose();
        _session.Dispose();
    }
}
