using Microsoft.ML.OnnxRuntime;

namespace MoeMesh.Inference.Moe.Execution;

/// <summary>
/// A runner's pinned input and output buffers of rows of one width, the <see cref="OrtValue"/>s over
/// their first n rows per row count n, and per graph session the IO binding of those values: a step
/// whose row count was seen before runs its graphs without creating a tensor, pinning a buffer or
/// marshalling a name. Row counts above <see cref="MaxBoundRows"/> (a prefill's) get values of their
/// own for that run. Not thread-safe.
/// </summary>
internal sealed class OrtBoundRows(int width) : IDisposable
{
    /// <summary>The largest row count whose values and bindings are kept: decode steps, not prefills.</summary>
    public const int MaxBoundRows = 16;

    private readonly Dictionary<int, (OrtValue Input, OrtValue Output)> _values = [];
    private readonly Dictionary<(OnnxGraphSession Session, int Rows), OrtIoBinding> _bindings = [];
    private float[] _input = [];
    private float[] _output = [];

    /// <summary>Where the next run's <paramref name="rows"/> input rows are written; grows the buffers when needed.</summary>
    public Span<float> Input(int rows)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rows);
        var size = checked(rows * width);
        if (_input.Length < size)
        {
            // Bound values point into the old buffers: they go with them.
            Forget();
            var capacity = Math.Max(size, Math.Min(_input.Length * 2, Array.MaxLength));
            _input = GC.AllocateUninitializedArray<float>(capacity, pinned: true);
            _output = GC.AllocateUninitializedArray<float>(capacity, pinned: true);
        }

        return _input.AsSpan(0, size);
    }

    /// <summary>The last run's <paramref name="rows"/> output rows.</summary>
    public ReadOnlySpan<float> Output(int rows) => _output.AsSpan(0, rows * width);

    /// <summary>Runs <paramref name="session"/> (one input, one output) on the first <paramref name="rows"/> rows of the buffers.</summary>
    public void Run(OnnxGraphSession session, int rows)
    {
        ArgumentNullException.ThrowIfNull(session);
        if (rows * width > _input.Length || rows <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(rows), rows, "Run more rows than were written.");
        }

        if (rows > MaxBoundRows)
        {
            using var input = OrtTensors.Over(_input.AsMemory(0, rows * width), rows, width);
            using var output = OrtTensors.Over(_output.AsMemory(0, rows * width), rows, width);
            session.Run([input], [output]);
            return;
        }

        if (!_bindings.TryGetValue((session, rows), out var binding))
        {
            if (!_values.TryGetValue(rows, out var values))
            {
                values = (OrtTensors.Over(_input.AsMemory(0, rows * width), rows, width), OrtTensors.Over(_output.AsMemory(0, rows * width), rows, width));
                _values[rows] = values;
            }

            binding = session.Bind(values.Input, values.Output);
            _bindings[(session, rows)] = binding;
        }

        session.Run(binding);
    }

    public void Dispose() => Forget();

    private void Forget()
    {
        foreach (var binding in _bindings.Values)
        {
            binding.Dispose();
        }

        foreach (var (input, output) in _values.Values)
        {
            input.Dispose();
            output.Dispose();
        }

        _bindings.Clear();
        _values.Clear();
    }
}
