using Microsoft.Extensions.DependencyInjection;
using MoeMesh.Activations;
using MoeMesh.Cli.Mesh;
using MoeMesh.TokenPath;

namespace MoeMesh.Cli.Bench;

/// <summary>
/// One hop measurement per frame dtype, over both transports; the allocated bytes are per TCP
/// exchange on the sending and the answering silo process.
/// </summary>
public sealed record HopBenchMeasurement(
    ActivationDType DType, int BytesPerToken, double GrainCallP50Us, double GrainCallP99Us, double TcpP50Us, double TcpP99Us,
    long TcpClientAllocatedBytesPerHop, long TcpServerAllocatedBytesPerHop);

/// <summary>The report of <c>moemesh bench hop</c>; the top-level figures are those of the faster transport with f32 frames.</summary>
public sealed record HopBenchReport
{
    public required int HiddenSize { get; init; }

    public required int Iterations { get; init; }

    /// <summary>"tcp-stream" or "grain-call": the transport with the lower f32 p50.</summary>
    public required string Transport { get; init; }

    public required double HopP50Us { get; init; }

    public required double HopP99Us { get; init; }

    /// <summary>Bytes one token moves per hop (request and reply frames) with f32 and f16 frames.</summary>
    public required int BytesPerTokenF32 { get; init; }

    public required int BytesPerTokenF16 { get; init; }

    /// <summary>Managed bytes one f32 TCP exchange allocates on both silo processes together.</summary>
    public required long AllocatedBytesPerHop { get; init; }

    public required bool GoalMet { get; init; }

    public required IReadOnlyList<HopBenchMeasurement> Measurements { get; init; }

    public required string Machine { get; init; }
}

/// <summary>Starts two silo processes, measures from the first silo's hop grain to the second's, stops them.</summary>
public static class HopBenchRunner
{
    public static async Task<HopBenchReport> RunAsync(IReadOnlyList<LocalSiloSpec> silos, int hiddenSize, int iterations, TextWriter progress, CancellationToken cancellationToken)
    {
        await using var mesh = await MeshBringUp.StartAsync(silos, [], [], progress, cancellationToken);
        var report = await MeasureAsync(mesh, hiddenSize, iterations, progress, cancellationToken);
        await progress.WriteLineAsync("[bench hop] stopping the silos…");
        return report;
    }

    /// <summary>Measures between the first two silos (by name) of a running mesh.</summary>
    public static async Task<HopBenchReport> MeasureAsync(MeshBringUp mesh, int hiddenSize, int iterations, TextWriter progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(mesh);
        var snapshot = await mesh.Connection.Client.GetStatusAsync(cancellationToken);
        var names = snapshot.Silos.Select(s => s.Silo).Order(StringComparer.Ordinal).ToList();
        if (names.Count < 2)
        {
            throw new InvalidOperationException($"Only {names.Count} silo joined; the hop benchmark needs two.");
        }

        var grains = mesh.Connection.Services.GetRequiredService<IGrainFactory>();
        var source = grains.GetGrain<IActivationHopGrain>(names[0]);
        var measurements = new List<HopBenchMeasurement>();
        foreach (var dtype in new[] { ActivationDType.F32, ActivationDType.F16, ActivationDType.Q8_0 })
        {
            await progress.WriteLineAsync($"[bench hop] {dtype} frames, H = {hiddenSize}: {iterations} grain calls, then {iterations} TCP stream exchanges…");
            var m = await source.MeasureAsync(names[1], hiddenSize, dtype, iterations);
            measurements.Add(new HopBenchMeasurement(
                dtype, m.FrameBytes + m.ReplyBytes, m.GrainCallP50Us, m.GrainCallP99Us, m.TcpP50Us, m.TcpP99Us, m.TcpClientAllocatedBytesPerHop, m.TcpServerAllocatedBytesPerHop));
        }

        var f32 = measurements[0];
        var tcp = f32.TcpP50Us <= f32.GrainCallP50Us;
        var (p50, p99) = tcp ? (f32.TcpP50Us, f32.TcpP99Us) : (f32.GrainCallP50Us, f32.GrainCallP99Us);
        return new HopBenchReport
        {
            HiddenSize = hiddenSize, Iterations = iterations, Transport = tcp ? "tcp-stream" : "grain-call", HopP50Us = p50, HopP99Us = p99,
            BytesPerTokenF32 = f32.BytesPerToken, BytesPerTokenF16 = measurements[1].BytesPerToken,
            AllocatedBytesPerHop = f32.TcpClientAllocatedBytesPerHop + f32.TcpServerAllocatedBytesPerHop,
            GoalMet = p50 <= 250 && p99 <= 1000, Measurements = measurements,
            Machine = $"{Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}",
        };
    }
}
