using Orleans.Configuration;

namespace MoeMesh.Grains.Hosting.Clustering;

/// <summary>
/// Failure detection for edge LANs, bound from <c>MoeMesh:Membership</c>. A handful of boxes on one
/// switch answer a probe in milliseconds, so a silo that misses three 2-second probes is dead, not
/// slow; detection then takes about 6 s plus one vote, where the Orleans defaults (built for
/// data-centre clusters of hundreds of silos) take 15 s or more.
/// </summary>
public sealed class MembershipTuningOptions
{
    /// <summary>How often a silo probes each of the silos it watches, and how long one probe may take.</summary>
    public TimeSpan ProbeTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// The longest a probe may take once Orleans has adapted its timeout to observed answers (Orleans'
    /// default is four times <see cref="ProbeTimeout"/>). It also sets how long a silo's last message
    /// keeps it from being suspected: Orleans withholds a vote while the connection to the silo received
    /// anything in the last <c>MaxProbeTimeout × NumMissedProbesLimit</c>. At 4 × 2 s × 3 = 24 s, a box
    /// whose link is cut for 20 s is never voted out; at 2 s the window is 6 s.
    /// </summary>
    public TimeSpan MaxProbeTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Missed probes in a row before a silo suspects the one it probes.</summary>
    public int NumMissedProbesLimit { get; set; } = 3;

    /// <summary>How many other silos each silo probes.</summary>
    public int NumProbedSilos { get; set; } = 3;

    /// <summary>Suspicions needed to declare a silo dead (fewer when fewer silos are alive to vote).</summary>
    public int NumVotesForDeathDeclaration { get; set; } = 2;

    /// <summary>How long a suspicion counts towards a death declaration.</summary>
    public TimeSpan DeathVoteExpirationTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Whether a silo that misses direct probes is probed through another silo before it counts as
    /// missed. Off: when a box's link is cut, the intermediary cannot reach it either, its probe
    /// ends in an error that Orleans treats as inconclusive, and the cut-off box would never be
    /// voted out; on a LAN of a few boxes, two votes already guard against one prober's bad link.
    /// </summary>
    public bool EnableIndirectProbes { get; set; }

    /// <summary>How often each silo re-reads the membership table even when gossip says nothing changed.</summary>
    public TimeSpan TableRefreshTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Every problem with these settings; empty when they are usable.</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (ProbeTimeout < TimeSpan.FromMilliseconds(200) || ProbeTimeout > TimeSpan.FromMinutes(1))
        {
            problems.Add($"MoeMesh:Membership:ProbeTimeout must be between 200 ms and 1 minute, got {ProbeTimeout}");
        }

        if (MaxProbeTimeout < ProbeTimeout || MaxProbeTimeout > TimeSpan.FromMinutes(4))
        {
            problems.Add($"MoeMesh:Membership:MaxProbeTimeout must be between ProbeTimeout ({ProbeTimeout}) and 4 minutes, got {MaxProbeTimeout}");
        }

        if (NumMissedProbesLimit is < 1 or > 10)
        {
            problems.Add($"MoeMesh:Membership:NumMissedProbesLimit must be between 1 and 10, got {NumMissedProbesLimit}");
        }

        if (NumProbedSilos is < 1 or > 10)
        {
            problems.Add($"MoeMesh:Membership:NumProbedSilos must be between 1 and 10, got {NumProbedSilos}");
        }

        if (NumVotesForDeathDeclaration < 1 || NumVotesForDeathDeclaration > NumProbedSilos)
        {
            problems.Add($"MoeMesh:Membership:NumVotesForDeathDeclaration must be between 1 and NumProbedSilos ({NumProbedSilos}), got {NumVotesForDeathDeclaration}");
        }

        if (DeathVoteExpirationTimeout < ProbeTimeout * NumMissedProbesLimit)
        {
            problems.Add("MoeMesh:Membership:DeathVoteExpirationTimeout must be at least ProbeTimeout × NumMissedProbesLimit, or votes expire before they can add up");
        }

        if (TableRefreshTimeout < TimeSpan.FromSeconds(1) || TableRefreshTimeout > TimeSpan.FromMinutes(10))
        {
            problems.Add($"MoeMesh:Membership:TableRefreshTimeout must be between 1 s and 10 minutes, got {TableRefreshTimeout}");
        }

        return problems;
    }
}

/// <summary>Applies <see cref="MembershipTuningOptions"/> to Orleans' cluster membership.</summary>
internal static class MembershipTuning
{
    /// <summary>Applies <paramref name="tuning"/>, already known, to <paramref name="silo"/>.</summary>
    public static void Configure(ISiloBuilder silo, MembershipTuningOptions tuning)
        => silo.Configure<ClusterMembershipOptions>(o => Apply(tuning, o));

    public static void Apply(MembershipTuningOptions tuning, ClusterMembershipOptions o)
    {
        o.ProbeTimeout = tuning.ProbeTimeout;
        o.MaxProbeTimeout = tuning.MaxProbeTimeout;
        o.NumMissedProbesLimit = tuning.NumMissedProbesLimit;
        o.NumProbedSilos = tuning.NumProbedSilos;
        o.NumVotesForDeathDeclaration = tuning.NumVotesForDeathDeclaration;
        o.DeathVoteExpirationTimeout = tuning.DeathVoteExpirationTimeout;
        o.TableRefreshTimeout = tuning.TableRefreshTimeout;
        o.EnableIndirectProbes = tuning.EnableIndirectProbes;
    }
}
