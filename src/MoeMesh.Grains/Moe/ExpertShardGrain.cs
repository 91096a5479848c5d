using System.Buffers;
using Microsoft.Extensions.Logging;
using MoeMesh.Activations;
using MoeMesh.Grains.Hosting;
using MoeMesh.Grains.Moe.DataPlane;
using MoeMesh.Inference.Moe;
using MoeMesh.TokenPath;
using Orleans.Placement;

namespace MoeMesh.Grains.Moe;

/// <summary>
/// Holds some routed experts of one MoE layer on this silo and runs activation frames through them.
/// Immovable: its weights are loaded here; a lost silo's shards are activated again elsewhere.
/// </summary>
[Immovable]
[MoeShardPlacement]
internal sealed partial class ExpertShardGrain(
    MoeModelFiles files, LocalShardRunners local, ActivationDataPlaneServer dataPlane, SiloIdentity silo, ILogger<ExpertShardGrain> logger)
    : Grain, IExpertShardGrain
{
    private ExpertShardKey _key;
    private IMoeExpertRunner? _runner;
    private long _frames;
    private long _tokens;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _key = ExpertShardKey.Parse(this.GetPrimaryKeyString());
        return Task.CompletedTask;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        local.Unregister(_key);
        if (_runner is { } runner)
        {
            lock (runner)
            {
                runner.Dispose();
            }
        }

        _runner = null;
        return Task.CompletedTask;
    }

    public async Task<ExpertShardEndpoint> OpenDataPlaneAsync()
    {
        _ = Runner();
        return new ExpertShardEndpoint(await dataPlane.EnsureStartedAsync(), silo.Name);
    }

    public Task<ExpertShardStatus> WarmUpAsync()
    {
        var runner = Runner();
        return Task.FromResult(new ExpertShardStatus
        {
            Key = _key, Silo = silo.Name, ResidentBytes = runner.ResidentBytes, FramesServed = _frames, TokensServed = _tokens,
        });
    }

    public Task<ExpertShardReply> RunAsync(byte[] frame)
    {
        var input = ActivationFrameCodec.Decode(frame);
        if (input.Kind != ActivationFrameKind.ExpertInput || input.ModelId != _key.ModelId || input.Layer != _key.Layer)
        {
            throw new ActivationFrameFormatException(
                $"Shard '{_key}' takes expert-input frames of model '{_key.ModelId}' layer {_key.Layer}; got a {input.Kind} frame of '{input.ModelId}' layer {input.Layer}.");
        }

        var runner = Runner();
        var count = input.TokenCount * input.HiddenSize;
        var pool = ArrayPool<float>.Shared;
        var (hidden, output) = (pool.Rent(count), pool.Rent(count));
        try
        {
            input.DecodeTensor(hidden.AsSpan(0, count));
            output.AsSpan(0, count).Clear();
            lock (runner)
            {
                runner.Run(hidden.AsSpan(0, count), input.TokenCount, input.ExpertIds, input.GateWeights, input.ExpertsPerToken, output.AsSpan(0, count));
            }

            _frames++;
            _tokens += input.TokenCount;

            // The grain call's reply must be an array of its own; the floats pass through pooled buffers.
            var reply = new ArrayBufferWriter<byte>(frame.Length + 64);
            ActivationFrameCodec.Encode(
                reply, ActivationFrameKind.ExpertOutput, input.ModelId, input.Layer, input.SequenceId, input.Positions, output.AsSpan(0, count), input.HiddenSize, input.DType);
            return Task.FromResult(new ExpertShardReply(reply.WrittenSpan.ToArray(), silo.Name));
        }
        finally
        {
            pool.Return(hidden);
            pool.Return(output);
        }
    }

    private IMoeExpertRunner Runner()
    {
        if (_runner is null)
        {
            var path = files.PathOf(_key.ModelId);
            var loader = files.Loader(_key.ModelId);
            _runner = loader.LoadExperts(path, _key.Layer, _key.Experts, MoeWeightPrecision.Float32);
            local.Register(_key, _runner);
            LogLoaded(logger, _key.ToString(), _runner.ResidentBytes);
        }

        return _runner;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Expert shard {Shard} loaded ({Bytes} bytes)")]
    private static partial void LogLoaded(ILogger logger, string shard, long bytes);
}
