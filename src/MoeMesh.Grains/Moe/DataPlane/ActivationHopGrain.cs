using System.Diagnostics;
using MoeMesh.Activations;
using MoeMesh.Errors;
using MoeMesh.Grains.Hosting;
using MoeMesh.TokenPath;

namespace MoeMesh.Grains.Moe.DataPlane;

/// <summary>The data plane's end on one silo; see <see cref="IActivationHopGrain"/>.</summary>
[SiloPinnedPlacement]
internal sealed class ActivationHopGrain(
    ActivationDataPlaneServer server, DataPlaneSecurity security, LocalShardRunners local, SiloIdentity silo, IGrainFactory grains) : Grain, IActivationHopGrain
{
    private const int Warmup = 1000;
    private const int AllocationHops = 2000;
    private static readonly TimeSpan ReplyTimeout = TimeSpan.FromSeconds(10);

    public Task<byte[]> EchoAsync(byte[] frame) => Task.FromResult(HopEcho.Reply(frame));

    public Task<long> GetAllocatedBytesAsync() => Task.FromResult(GC.GetTotalAllocatedBytes(precise: true));

    public Task<DataPlaneEndpoint> OpenDataPlaneAsync() => server.EnsureStartedAsync();

    public Task<IReadOnlyList<LoadedShard>> GetLoadedShardsAsync()
        => Task.FromResult<IReadOnlyList<LoadedShard>>([.. local.Loaded().Select(s => new LoadedShard(s.Key, s.ResidentBytes))]);

    public async Task<HopMeasurement> MeasureAsync(string targetSilo, int hiddenSize, ActivationDType dtype, int iterations)
    {
        if (hiddenSize is < 1 or > 65536 || iterations is < 10 or > 1_000_000 || !Enum.IsDefined(dtype))
        {
            throw new InvalidRequestException("Hop measurement needs a hidden size of 1 to 65536, 10 to 1,000,000 iterations and a known dtype.");
        }

        var frame = HopEcho.SampleInput(hiddenSize, dtype);
        var target = grains.GetGrain<IActivationHopGrain>(targetSilo);
        var replyBytes = (await target.EchoAsync(frame)).Length;
        var endpoint = await target.OpenDataPlaneAsync();
        using var client = await ActivationDataPlaneClient.ConnectAsync(endpoint, security, CancellationToken.None);

        // The caller decodes each reply on both paths, as the backbone does, into one reused buffer.
        var decoded = new float[hiddenSize];

        // Interleaved, after a warm-up of both: load on the machine and JIT tiering hit both transports alike.
        for (var i = 0; i < Warmup; i++)
        {
            await TimeGrainCallAsync(target, frame, decoded);
            TimeExchange(client, frame, decoded);
        }

        var grainCalls = new double[iterations];
        var tcp = new double[iterations];
        for (var i = 0; i < iterations; i++)
        {
            grainCalls[i] = await TimeGrainCallAsync(target, frame, decoded);
            tcp[i] = TimeExchange(client, frame, decoded);
        }

        // Bytes allocated per hop on both processes, after the timed loop so its counting stays out of the latencies.
        var clientBefore = GC.GetTotalAllocatedBytes(precise: true);
        var serverBefore = await target.GetAllocatedBytesAsync();
        for (var i = 0; i < AllocationHops; i++)
        {
            TimeExchange(client, frame, decoded);
        }

        var clientBytes = (GC.GetTotalAllocatedBytes(precise: true) - clientBefore) / AllocationHops;
        var serverBytes = (await target.GetAllocatedBytesAsync() - serverBefore) / AllocationHops;
        return new HopMeasurement
        {
            FromSilo = silo.Name, ToSilo = targetSilo, DType = dtype, HiddenSize = hiddenSize, Iterations = iterations,
            FrameBytes = frame.Length, ReplyBytes = replyBytes,
            GrainCallP50Us = LatencyPercentiles.Of(grainCalls, 0.5), GrainCallP99Us = LatencyPercentiles.Of(grainCalls, 0.99),
            TcpP50Us = LatencyPercentiles.Of(tcp, 0.5), TcpP99Us = LatencyPercentiles.Of(tcp, 0.99),
            TcpClientAllocatedBytesPerHop = clientBytes, TcpServerAllocatedBytesPerHop = serverBytes,
        };
    }

    private static async Task<double> TimeGrainCallAsync(IActivationHopGrain target, byte[] frame, float[] decoded)
    {
        var started = Stopwatch.GetTimestamp();
        ActivationFrameCodec.Decode(await target.EchoAsync(frame)).DecodeTensor(decoded);
        return Stopwatch.GetElapsedTime(started).TotalMicroseconds;
    }

    /// <summary>One exchange as the backbone's dispatcher makes it: sent and awaited on the calling thread.</summary>
    private static double TimeExchange(ActivationDataPlaneClient client, byte[] frame, float[] decoded)
    {
        var started = Stopwatch.GetTimestamp();
        var send = client.BeginFrame();
        frame.CopyTo(send.GetSpan(frame.Length));
        send.Advance(frame.Length);
        client.Send();
        ActivationFrameCodec.Decode(client.Receive(ReplyTimeout)).DecodeTensor(decoded);
        return Stopwatch.GetElapsedTime(started).TotalMicroseconds;
    }
}
