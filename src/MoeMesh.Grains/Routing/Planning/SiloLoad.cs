namespace MoeMesh.Grains.Routing.Planning;

/// <summary>What one silo is running: runs this router has in flight there, and what its replicas last reported.</summary>
internal sealed class SiloLoad
{
    private int _inFlight;
    private int _reported;

    public int InFlight => Volatile.Read(ref _inFlight);

    public int Reported
    {
        get => Volatile.Read(ref _reported);
        set => Volatile.Write(ref _reported, value);
    }

    /// <summary>Sequences running there as far as this router knows: its own runs or the replicas' report, whichever is more.</summary>
    public int Running => Math.Max(InFlight, Reported);

    public void Enter() => Interlocked.Increment(ref _inFlight);

    public void Leave() => Interlocked.Decrement(ref _inFlight);
}
