namespace MoeMesh.Grains.Routing.Planning;

/// <summary>
/// A run this router has in flight on one replica (an expert on a silo), counted among the
/// sequences that replica's engine decodes together until disposed. Sequences on one engine share
/// its batches, so they slow each other differently from sequences on the host's other engines.
/// </summary>
public sealed class ReplicaRun : IDisposable
{
    private readonly ReplicaLoad _load;
    private int _disposed;

    internal ReplicaRun(ReplicaLoad load, int siloOthersAtStart, int enginesElsewhereAtStart)
    {
        _load = load;
        SiloOthersAtStart = siloOthersAtStart;
        EnginesElsewhereAtStart = enginesElsewhereAtStart;
        OthersAtStart = load.Enter();
    }

    /// <summary>Other runs on the same replica when this one was sent.</summary>
    public int OthersAtStart { get; }

    /// <summary>Other sequences on the replica's silo (any expert) when this one was sent.</summary>
    public int SiloOthersAtStart { get; }

    /// <summary>Other engines of the host running runs when this one was sent.</summary>
    public int EnginesElsewhereAtStart { get; }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _load.Leave();
        }
    }
}
