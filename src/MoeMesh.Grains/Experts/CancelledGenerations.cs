using System.Diagnostics;
using MoeMesh.Grains.Telemetry;

namespace MoeMesh.Grains.Experts;

/// <summary>
/// Counts this silo's generations that are still running although their query was cancelled: the
/// time between a cancellation reaching the expert and the engine letting go. A value that stays
/// above zero means cancellation leaks, and a cancelled query keeps burning the box.
/// </summary>
public sealed class CancelledGenerations(string siloName)
{
    private int _running;

    /// <summary>Cancelled generations still running now.</summary>
    public int Running => Volatile.Read(ref _running);

    internal void Add()
    {
        Interlocked.Increment(ref _running);
        MoeMeshInstrumentation.CancelledGenerationsRunning.Add(1, new TagList { { "silo", siloName } });
    }

    internal void Remove()
    {
        Interlocked.Decrement(ref _running);
        MoeMeshInstrumentation.CancelledGenerationsRunning.Add(-1, new TagList { { "silo", siloName } });
    }
}
