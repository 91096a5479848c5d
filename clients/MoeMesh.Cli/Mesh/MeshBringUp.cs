using Microsoft.Extensions.DependencyInjection;
using MoeMesh.Catalog;
using MoeMesh.Cli.Common;
using MoeMesh.Experts;

namespace MoeMesh.Cli.Mesh;

/// <summary>Starts a local mesh, connects to it and loads every expert replica, reporting progress.</summary>
public sealed class MeshBringUp : IAsyncDisposable
{
    private MeshBringUp(LocalMesh mesh, MeshConnection connection)
    {
        Mesh = mesh;
        Connection = connection;
    }

    public LocalMesh Mesh { get; }

    public MeshConnection Connection { get; }

    public static async Task<MeshBringUp> StartAsync(
        IReadOnlyList<LocalSiloSpec> silos,
        IReadOnlyList<string> manifestFolders,
        IReadOnlyList<string> extraSiloArguments,
        TextWriter progress,
        CancellationToken cancellationToken,
        TimeProvider? time = null)
    {
        time ??= TimeProvider.System;
        var started = time.GetTimestamp();
        var mesh = await LocalMesh.StartAsync(silos, manifestFolders, extraSiloArguments, progress, cancellationToken);
        MeshConnection? connection = null;
        try
        {
            connection = await MeshConnection.OpenAsync(mesh.Gateways, cancellationToken);
            var snapshot = await WaitForSilosAsync(connection, silos.Count, mesh, time, cancellationToken);
            await progress.WriteLineAsync($"{snapshot.Silos.Count} silos joined in {Units.Ms(time.GetElapsedTime(started).TotalMilliseconds)}; loading {snapshot.Experts.Sum(e => e.Replicas)} expert replica(s)…");
            await WarmUpAsync(connection, snapshot, progress, time, cancellationToken);
            return new MeshBringUp(mesh, connection);
        }
        catch
        {
            if (connection is not null)
            {
                await connection.DisposeAsync();
            }

            await mesh.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Connection.DisposeAsync();
        await Mesh.DisposeAsync();
    }

    private static async Task<CatalogSnapshot> WaitForSilosAsync(MeshConnection connection, int count, LocalMesh mesh, TimeProvider time, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        while (true)
        {
            var snapshot = await connection.Client.GetStatusAsync(cancellationToken);
            if (snapshot.Silos.Count(s => s.State == SiloState.Active) >= count)
            {
                return snapshot;
            }

            if (mesh.Exited().FirstOrDefault() is { Spec: not null } dead)
            {
                throw new InvalidOperationException($"Silo {dead.Spec.Profile} exited with code {dead.ExitCode}:{Environment.NewLine}{LocalMesh.Tail(dead.Log, 15)}");
            }

            if (time.GetElapsedTime(started) > TimeSpan.FromSeconds(60))
            {
                throw new TimeoutException($"Only {snapshot.Silos.Count} of {count} silos joined the catalog within 60 s; see the silo logs under {Path.Combine(LocalMeshState.Home, "logs")}.");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(250), time, cancellationToken);
        }
    }

    private static async Task WarmUpAsync(MeshConnection connection, CatalogSnapshot snapshot, TextWriter progress, TimeProvider time, CancellationToken cancellationToken)
    {
        var grains = connection.Services.GetRequiredService<IGrainFactory>();
        var replicas = snapshot.Experts.SelectMany(e => Enumerable.Range(0, e.Replicas).Select(r => new ExpertReplica(e.Id, r))).ToList();
        var done = 0;
        var failures = 0;
        await Task.WhenAll(replicas.Select(async replica =>
        {
            var started = time.GetTimestamp();
            string line;
            try
            {
                var status = await grains.GetGrain<IExpertGrain>(replica.GrainKey).WarmUpAsync().WaitAsync(cancellationToken);
                var device = snapshot.Silos.FirstOrDefault(s => s.Silo == status.Silo)?.Device.Name ?? status.Silo;
                line = status.State == ReplicaState.Ready
                    ? $"{replica} ready on {device} in {Units.Ms(time.GetElapsedTime(started).TotalMilliseconds)} ({Units.Bytes(status.ResidentBytes)})"
                    : $"{replica} FAILED on {device}: {status.Error}";
                if (status.State != ReplicaState.Ready)
                {
                    Interlocked.Increment(ref failures);
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Interlocked.Increment(ref failures);
                line = $"{replica} FAILED: {ex.Message}";
            }

            var n = Interlocked.Increment(ref done);
            lock (progress)
            {
                progress.WriteLine($"  [{n}/{replicas.Count}] {line}");
            }
        }));

        if (failures > 0)
        {
            await progress.WriteLineAsync($"{failures} replica(s) failed to load; the mesh serves the others.");
        }
    }
}
