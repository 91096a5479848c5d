using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using MoeMesh.Experts;
using MoeMesh.Cli.Mesh;
using MoeMesh.Routing.Fitting;

namespace MoeMesh.Cli.Bench;

/// <summary>
/// <c>moemesh bench replay</c>: a local multi-silo mesh of replay experts (the edge pool on a Jetson
/// AGX Orin and an RTX 4090 profile, placed as <c>moemesh eval</c> places them) answers test-split
/// MMLU-Pro questions through the SDK; reports accuracy, throughput, latency, the mesh's overhead
/// beyond the experts' own time, budget compliance and answered/sent, optionally with a silo killed
/// mid-run, and what <c>moemesh eval</c> predicts for the same router and questions.
/// </summary>
public static class BenchReplayCommand
{
    public const string DefaultSilos = $"{DeviceAssignment.JetsonId},{DeviceAssignment.Rtx4090Id}";

    public static Command Create()
    {
        var options = new BenchReplayOptions();
        var command = new Command("replay", "Replay recorded MMLU-Pro answers through a local multi-silo mesh: accuracy, throughput, latency, mesh overhead, budget compliance and answered/sent, optionally killing a silo mid-run.");
        options.AddTo(command);
        command.SetAction((parse, cancellationToken) => new BenchReplayAction(options, parse).RunAsync(cancellationToken));
        return command;
    }

    /// <summary>
    /// Every expert must be loaded and ready before measuring; a failed one stops the bench with its
    /// reason. Replicas the bring-up's parallel loads displaced from a silo's model memory (a replica
    /// reserves its model's weight bytes while it loads, so loads at once can push each other out) are
    /// loaded again one at a time; a replay expert holds almost nothing once loaded, so they all stay.
    /// </summary>
    internal static async Task EnsureExpertsReadyAsync(MeshBringUp mesh, ReplayBenchSetup setup, IProgress<string> progress, CancellationToken cancellationToken)
    {
        var grains = mesh.Connection.Services.GetRequiredService<IGrainFactory>();
        var started = Stopwatch.GetTimestamp();
        while (true)
        {
            var snapshot = await mesh.Connection.Client.GetStatusAsync(cancellationToken);
            var ready = snapshot.Replicas.Where(r => r.State == ReplicaState.Ready).Select(r => r.Replica.ExpertId).ToHashSet(StringComparer.Ordinal);
            var missing = setup.Manifests.Where(m => !ready.Contains(m.Id)).ToList();
            if (missing.Count == 0)
            {
                return;
            }

            if (Stopwatch.GetElapsedTime(started) > TimeSpan.FromSeconds(60))
            {
                throw new TimeoutException($"replay experts not ready after 60 s: {string.Join(", ", missing.Select(m => m.Id))}");
            }

            progress.Report($"loading again: {string.Join(", ", missing.Select(m => m.Id))}");
            foreach (var manifest in missing)
            {
                var status = await grains.GetGrain<IExpertGrain>(new ExpertReplica(manifest.Id, 0).GrainKey).WarmUpAsync().WaitAsync(cancellationToken);
                if (status.State == ReplicaState.Failed)
                {
                    throw new InvalidOperationException($"replay expert {manifest.Id} failed to load: {status.Error}");
                }
            }

            await Task.Delay(250, cancellationToken);
        }
    }

    internal static async Task<(ReplayKill?, long)> KillAsync(LocalMesh mesh, int index, double afterSeconds, long measuring, ReplayBenchRunner runner, IProgress<string> progress, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(afterSeconds), cancellationToken);
        }
        catch (OperationCanceledException)
        {
            return (null, 0);
        }

        var (spec, process, _) = mesh.Silos[index - 1];
        var inFlight = runner.InFlight;
        var at = Stopwatch.GetElapsedTime(measuring).TotalSeconds;
        process.Kill(entireProcessTree: true);
        progress.Report(string.Create(CultureInfo.InvariantCulture, $"killed silo #{index} {spec.Profile} (pid {process.Id}) at {at:0.0} s with {inFlight} queries in flight"));
        return (new ReplayKill { Silo = spec.Profile, Index = index, ProcessId = process.Id, AtSeconds = at, InFlight = inFlight }, inFlight);
    }

    internal static void TryDelete(string folder)
    {
        try
        {
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    /// <summary>Progress lines on stderr, so stdout stays the report alone.</summary>
    internal sealed class StderrProgress(TextWriter error) : IProgress<string>
    {
        public void Report(string value)
        {
            lock (error)
            {
                error.WriteLine($"[bench replay] {value}");
            }
        }
    }
}
