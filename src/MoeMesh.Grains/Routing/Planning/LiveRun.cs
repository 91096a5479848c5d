namespace MoeMesh.Grains.Routing.Planning;

/// <summary>A run this router has in flight on a silo, counted in that silo's load until disposed.</summary>
public sealed class LiveRun : IDisposable
{
    private readonly SiloLoad _load;
    private readonly TimeProvider _time;
    private readonly long _started;
    private int _disposed;

    internal LiveRun(SiloLoad load, TimeProvider time, long started, int othersAtStart, int? estimatedPromptTokens)
    {
        _load = load;
        _time = time;
        _started = started;
        OthersAtStart = othersAtStart;
        EstimatedPromptTokens = estimatedPromptTokens;
        load.Enter();
    }

    /// <summary>The run's prompt tokens as estimated from its characters, when known.</summary>
    public int? EstimatedPromptTokens { get; }

    /// <summary>Sequences already running on the run's host when it was sent.</summary>
    public int OthersAtStart { get; }

    /// <summary>Milliseconds since the run was sent.</summary>
    public double ElapsedMs => _time.GetElapsedTime(_started).TotalMilliseconds;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _load.Leave();
        }
    }
}
