using Microsoft.Extensions.Options;
using MoeMesh.Grains.Hosting.Clustering;

namespace MoeMesh.Grains.Hosting;

/// <summary>
/// Checks a silo's <see cref="MoeMeshSiloOptions"/> when the host starts (<c>ValidateOnStart</c>), before
/// the silo joins the mesh: ports, clustering, TLS and membership settings, then the device profile,
/// the manifests and the memory budget they resolve to. The failure message is the one
/// <see cref="MoeMeshSiloConfiguration.Resolve"/> throws, so it reads the same however the silo was configured.
/// </summary>
internal sealed class MoeMeshSiloOptionsValidator(SiloContentRoot contentRoot) : IValidateOptions<MoeMeshSiloOptions>
{
    public ValidateOptionsResult Validate(string? name, MoeMeshSiloOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        try
        {
            MoeMeshSiloConfiguration.Resolve(options, contentRoot.Path);
            return ValidateOptionsResult.Success;
        }
        catch (MoeMeshConfigurationException ex)
        {
            return ValidateOptionsResult.Fail(ex.Message);
        }
    }

    /// <summary>Every problem with the settings that need no file or device to check; empty when there is none.</summary>
    public static List<string> Problems(MoeMeshSiloOptions options)
    {
        var problems = new List<string>();
        CheckPort(problems, "MoeMesh:Endpoints:SiloPort", options.Endpoints.SiloPort);
        CheckPort(problems, "MoeMesh:Endpoints:GatewayPort", options.Endpoints.GatewayPort);
        CheckPort(problems, "MoeMesh:Endpoints:PrimarySiloPort", options.Endpoints.PrimarySiloPort);
        if (options.Endpoints.SiloPort == options.Endpoints.GatewayPort)
        {
            problems.Add($"MoeMesh:Endpoints:SiloPort and GatewayPort must differ (both {options.Endpoints.SiloPort})");
        }

        problems.AddRange(ClusteringProblems(options.Clustering));
        problems.AddRange(options.Tls.Problems());
        problems.AddRange(options.Membership.Problems());
        return problems;
    }

    private static List<string> ClusteringProblems(ClusteringOptions clustering)
    {
        var problems = new List<string>();
        if (!Enum.IsDefined(clustering.Provider))
        {
            problems.Add($"MoeMesh:Clustering:Provider must be one of {string.Join(", ", Enum.GetNames<ClusteringProvider>())}");
        }

        if (clustering.Provider is ClusteringProvider.Redis or ClusteringProvider.Postgres)
        {
            if (string.IsNullOrWhiteSpace(clustering.ConnectionString))
            {
                problems.Add($"MoeMesh:Clustering:ConnectionString is required for {clustering.Provider} clustering");
            }
            else if (ConnectionStringProblem(clustering) is { } problem)
            {
                problems.Add(problem);
            }
        }

        if (string.IsNullOrWhiteSpace(clustering.ClusterId))
        {
            problems.Add("MoeMesh:Clustering:ClusterId must not be empty");
        }

        if (string.IsNullOrWhiteSpace(clustering.ServiceId))
        {
            problems.Add("MoeMesh:Clustering:ServiceId must not be empty");
        }

        return problems;
    }

    /// <summary>Whether the membership store's connection string parses (no connection is made here).</summary>
    private static string? ConnectionStringProblem(ClusteringOptions clustering)
    {
        try
        {
            _ = clustering.Provider == ClusteringProvider.Redis
                ? RedisMembershipCheck.Parse(clustering.ConnectionString)
                : (object)PostgresMembershipSchema.Parse(clustering.ConnectionString);
            return null;
        }
        catch (MoeMeshConfigurationException ex)
        {
            return ex.Message;
        }
    }

    private static void CheckPort(List<string> problems, string key, int port)
    {
        if (port is < 1 or > 65535)
        {
            problems.Add($"{key} must be between 1 and 65535, got {port}");
        }
    }
}

/// <summary>The folder relative device-profile and manifest paths are resolved against.</summary>
public sealed record SiloContentRoot(string? Path);
