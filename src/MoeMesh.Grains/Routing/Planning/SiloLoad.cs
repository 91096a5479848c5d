namespace MoeMesh.Grains.Routing.Planning;

/// <summary>
/// What one silo is running: runs this router has in flight there, and the sequences its replicas
/// last reported besides this router's own at the time of each report.
/// </summary>
internal sealed class SiloLoad
{
    private int _inFlight;
    private int _others;

    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>Sequences of other routers the replicas reported, this router's runs at the time of each report taken out.</summary>
    public int Others
    {
        get => Volatile.Read(ref _others);
        set => Volatile.Write(ref _others, Math.Max(0, value));
    }

    /// <summary>
    /// Sequences running there as far as this router knows: its own runs now, and the others' as last
    /// reported. A report that arrives late thus counts neither this router's runs twice nor runs of
    /// its own that have ended since.
    /// </summary>
    public int Running => InFlight + Others;

    public void Enter() => Interlocked.Increment(ref _inFlight);

    public void Leave() => Interlocked.Decrement(ref _inFlight);
}
