using MoeMesh.Dashboard.Security;

namespace MoeMesh.Dashboard.Hosting;

/// <summary>The dashboard's validated configuration as it is applied: keys, listen addresses and limits.</summary>
public sealed class DashboardSettings
{
    public DashboardSettings(MoeMeshDashboardOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Options = options;
        Keys = new ApiKeySet(options.ApiKeys);
        var urls = options.Urls.Count == 0 ? [MoeMeshDashboardOptions.DefaultUrl] : options.Urls;
        var requested = urls.Select(u => ListenAddress.TryParse(u, out var a, out var error) ? a : throw new ArgumentException(error, nameof(options))).ToList();
        NarrowedToLoopback = !Keys.Required && requested.Any(a => !a.IsLoopback);
        Listen = (Keys.Required ? requested : requested.Select(a => a.IsLoopback ? a : a.OnLoopback()))
            .Distinct()
            .ToList();
    }

    public MoeMeshDashboardOptions Options { get; }

    public ApiKeySet Keys { get; }

    /// <summary>The addresses the server binds to (narrowed to the loopback interface when no key is configured).</summary>
    public IReadOnlyList<ListenAddress> Listen { get; }

    /// <summary>True when a configured address was replaced by the loopback one because no API key is set.</summary>
    public bool NarrowedToLoopback { get; }

    public TimeSpan LiveInterval => TimeSpan.FromMilliseconds(Options.LiveIntervalMs);
}
