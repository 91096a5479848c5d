namespace MoeMesh.Grains.Routing;

/// <summary>How the router runs plans, bound from <c>MoeMesh:Routing</c>.</summary>
public sealed class RouterOptions
{
    /// <summary>How many times one step may move to another replica or expert after a failure.</summary>
    public int MaxFailovers { get; set; } = 2;

    /// <summary>How long a failover waits for a fresh catalog before re-planning from the snapshot it has.</summary>
    public TimeSpan CatalogRefreshTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How long queries wait so that those recruited to the same expert reach it together and are
    /// decoded as one batch; 0 sends every query at once.
    /// </summary>
    public TimeSpan BatchWindow { get; set; } = TimeSpan.Zero;
}
