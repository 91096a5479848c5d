namespace MoeMesh.Inference.Moe.Execution;

/// <summary>
/// One step of an expert runner: which tokens each selected expert takes, the expert graphs run on
/// one or more threads (each thread with its own pinned buffers and bindings), and the weighted
/// results added into the output in ascending expert order. Buffers grow to the largest step seen
/// and are reused. Not thread-safe.
/// </summary>
internal sealed class ExpertStep : IDisposable
{
    private readonly int _hidden;
    private readonly OrtBoundRows[] _workers;
    private readonly int[] _indexOfExpert;
    private readonly List<int> _selected = [];
    private Dictionary<int, OnnxGraphSession> _sessions = [];
    private int[][] _rows = [];
    private float[][] _rowWeights = [];
    private float[][] _results = [];
    private int[] _counts = [];
    private float[] _hiddenRows = [];
    private readonly Action<int> _runWorker;
    private int _workerCount;

    public ExpertStep(int hidden, int expertIdBound, int threads)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(threads);
        _runWorker = RunWorker;
        _hidden = hidden;
        _workers = [.. Enumerable.Range(0, threads).Select(_ => new OrtBoundRows(hidden))];
        _indexOfExpert = new int[expertIdBound];
    }

    /// <summary>Runs the held experts of <paramref name="sessions"/> that <paramref name="expertIds"/> selects and writes their weighted sum to <paramref name="output"/>.</summary>
    public void Run(Dictionary<int, OnnxGraphSession> sessions, ReadOnlySpan<float> hidden, int tokenCount, ReadOnlySpan<int> expertIds, ReadOnlySpan<float> weights, int slotsPerToken, Span<float> output)
    {
        output.Clear();
        _sessions = sessions;
        Select(expertIds, tokenCount);
        if (_selected.Count == 0)
        {
            return;
        }

        Route(expertIds, weights, slotsPerToken);
        Grow(ref _hiddenRows, hidden.Length);
        hidden.CopyTo(_hiddenRows);
        _workerCount = Math.Min(_workers.Length, _selected.Count);
        if (_workerCount == 1)
        {
            RunWorker(0);
        }
        else
        {
            Parallel.For(0, _workerCount, _runWorker);
        }

        Add(output);
    }

    public void Dispose()
    {
        foreach (var worker in _workers)
        {
            worker.Dispose();
        }
    }

    /// <summary>The held experts the step selects, in ascending order, each with room for every token.</summary>
    private void Select(ReadOnlySpan<int> expertIds, int tokenCount)
    {
        _selected.Clear();
        foreach (var id in expertIds)
        {
            if (_sessions.ContainsKey(id) && !_selected.Contains(id))
            {
                _selected.Add(id);
            }
        }

        _selected.Sort();
        if (_rows.Length < _selected.Count)
        {
            Array.Resize(ref _rows, _selected.Count);
            Array.Resize(ref _rowWeights, _selected.Count);
            Array.Resize(ref _results, _selected.Count);
            Array.Resize(ref _counts, _selected.Count);
        }

        for (var k = 0; k < _selected.Count; k++)
        {
            _indexOfExpert[_selected[k]] = k;
            _counts[k] = 0;
            Grow(ref _rows[k], tokenCount);
            Grow(ref _rowWeights[k], tokenCount);
            Grow(ref _results[k], tokenCount * _hidden);
        }
    }

    /// <summary>Lists, per selected expert, the tokens routed to it and their gate weights, in token order.</summary>
    private void Route(ReadOnlySpan<int> expertIds, ReadOnlySpan<float> weights, int slotsPerToken)
    {
        for (var slot = 0; slot < expertIds.Length; slot++)
        {
            var id = expertIds[slot];
            // Experts another runner holds are not this step's.
            if (id < 0 || id >= _indexOfExpert.Length)
            {
                continue;
            }

            var k = _indexOfExpert[id];
            if (k >= _selected.Count || _selected[k] != id)
            {
                continue;
            }

            _rows[k][_counts[k]] = slot / slotsPerToken;
            _rowWeights[k][_counts[k]] = weights[slot];
            _counts[k]++;
        }
    }

    /// <summary>Runs every <see cref="_workerCount"/>-th selected expert from <paramref name="worker"/> on, on that worker's buffers.</summary>
    private void RunWorker(int worker)
    {
        var bound = _workers[worker];
        var h = _hidden;
        for (var k = worker; k < _selected.Count; k += _workerCount)
        {
            var count = _counts[k];
            var gathered = bound.Input(count);
            var rows = _rows[k];
            for (var i = 0; i < count; i++)
            {
                _hiddenRows.AsSpan(rows[i] * h, h).CopyTo(gathered.Slice(i * h, h));
            }

            bound.Run(_sessions[_selected[k]], count);
            bound.Output(count).CopyTo(_results[k]);
        }
    }

    /// <summary>Adds each expert's weighted rows into the output, experts in ascending order.</summary>
    private void Add(Span<float> output)
    {
        var h = _hidden;
        for (var k = 0; k < _selected.Count; k++)
        {
            var rows = _rows[k];
            var rowWeights = _rowWeights[k];
            var results = _results[k];
            for (var i = 0; i < _counts[k]; i++)
            {
                var target = output.Slice(rows[i] * h, h);
                var source = results.AsSpan(i * h, h);
                var w = rowWeights[i];
                for (var j = 0; j < h; j++)
                {
                    target[j] += w * source[j];
                }
            }
        }
    }

    private static void Grow<T>(ref T[] buffer, int size)
    {
        if (buffer is null || buffer.Length < size)
        {
            buffer = new T[size];
        }
    }
}
