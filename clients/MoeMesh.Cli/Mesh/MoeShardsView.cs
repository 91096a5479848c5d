using Microsoft.Extensions.DependencyInjection;
using MoeMesh.Catalog;
using MoeMesh.Cli.Common;
using MoeMesh.TokenPath;

namespace MoeMesh.Cli.Mesh;

/// <summary>The token-path part of <c>moemesh status</c>: which silo holds which experts of which layers.</summary>
public static class MoeShardsView
{
    /// <summary>Asks every active silo for its loaded expert shards; silos that do not answer are listed as such.</summary>
    public static async Task<IReadOnlyList<(string Silo, LoadedShard Shard)>> QueryAsync(MeshConnection connection, CatalogSnapshot snapshot, CancellationToken cancellationToken)
    {
        var grains = connection.Services.GetRequiredService<IGrainFactory>();
        var rows = new List<(string, LoadedShard)>();
        foreach (var silo in snapshot.Silos.Where(s => s.State == SiloState.Active))
        {
            var shards = await grains.GetGrain<IActivationHopGrain>(silo.Silo).GetLoadedShardsAsync().WaitAsync(TimeSpan.FromSeconds(10), cancellationToken);
            rows.AddRange(shards.Select(s => (silo.Silo, s)));
        }

        return rows;
    }

    public static void Write(IReadOnlyList<(string Silo, LoadedShard Shard)> rows, TextWriter output)
    {
        if (rows.Count == 0)
        {
            return;
        }

        output.WriteLine();
        output.WriteLine($"Mixture-of-Experts shards ({rows.Count}):");
        var table = new TextTable("model", "layer", "experts", "replica", "silo", "resident");
        foreach (var (silo, shard) in rows.OrderBy(r => r.Shard.Key.ModelId, StringComparer.Ordinal).ThenBy(r => r.Shard.Key.Layer).ThenBy(r => r.Shard.Key.FirstExpert))
        {
            var key = shard.Key;
            table.Add(key.ModelId, key.Layer, $"{key.FirstExpert}–{key.FirstExpert + key.ExpertCount - 1}", key.Replica, silo, Units.Bytes(shard.ResidentBytes));
        }

        table.WriteTo(output);
    }
}
