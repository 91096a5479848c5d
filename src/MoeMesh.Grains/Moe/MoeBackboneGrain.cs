using System.Diagnostics;
using Microsoft.Extensions.Logging;
using MoeMesh.Activations;
using MoeMesh.Errors;
using MoeMesh.Grains.Hosting;
using MoeMesh.Grains.Moe.DataPlane;
using MoeMesh.Inference.Moe;
using MoeMesh.TokenPath;
using Orleans.Placement;

namespace MoeMesh.Grains.Moe;

/// <summary>
/// One sequence on a Mixture-of-Experts model's backbone, on the silo that asked for it. Each step
/// runs the backbone to a MoE layer's gate, hands the layer to <see cref="MoeLayerDispatcher"/>,
/// and continues with the summed expert output until the logits.
/// </summary>
[PreferLocalPlacement]
internal sealed partial class MoeBackboneGrain(
    MoeModelFiles files, IGrainFactory grains, IClusterMembershipService membership, SiloIdentity silo,
    DataPlaneSecurity security, TimeProvider time, ILogger<MoeBackboneGrain> logger) : Grain, IMoeBackboneGrain
{
    public async Task<MoeGenerationResult> GenerateAsync(MoeGenerationRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var key = this.GetPrimaryKeyString();
        var modelId = key[..Math.Max(0, key.LastIndexOf('/'))];
        var manifest = files.Manifest(modelId);
        var backbone = files.Backbone(modelId);
        var shape = backbone.Shape;
        Validate(request, shape, manifest.ContextSize);

        var silos = membership.CurrentSnapshot.Members.Values.Count(m => m.Status == SiloStatus.Active);
        var layout = MoeShardLayout.From(modelId, shape.ExpertCount, manifest.EngineOptions, silos);
        if (layout.HotReplicas > 0)
        {
            // Hot shards (by the routing counts so far) get extra replicas that sequences share out.
            var stats = await grains.GetGrain<IMoeStatsGrain>(modelId).GetAsync();
            layout = layout.WithHotShards(stats.RoutingCounts, stats.LayerCount);
        }

        var options = request.Execution;
        var ledger = new MoeRunLedger(shape.LayerCount, shape.ExpertCount);
        using var cache = options.Mode == MoeExecutionMode.Budgeted && options.LocalExpertCache
            ? new MoeLocalExpertCache(files.Loader(modelId), files.PathOf(modelId), 2 * shape.ExpertsPerToken * shape.LayerCount, MoeWeightPrecision.Float16)
            : null;
        using var dispatcher = new MoeLayerDispatcher(grains, layout, options, ledger, cache, security, time, logger, key);
        var prefetch = new MoePrefetcher(cache, ledger);

        var started = Stopwatch.GetTimestamp();
        using var session = backbone.CreateSession(request.PromptTokens.Length + request.MaxTokens);
        var generated = new List<int>();
        var input = request.PromptTokens;
        var steps = 0;
        float[]? promptLogits = null;
        while (generated.Count < request.MaxTokens)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var logits = await StepAsync(session, input, dispatcher, prefetch, cancellationToken);
            steps++;

            // The first step ran the whole prompt; the session reuses its buffer on the next step.
            if (steps == 1 && request.IncludePromptLogits)
            {
                promptLogits = logits.ToArray();
            }

            var next = ArgMax(logits.Span[^shape.VocabularySize..]);
            if (next == request.StopToken)
            {
                break;
            }

            generated.Add(next);
            input = [next];
        }

        await prefetch.DrainAsync();
        var (p50, p99) = ledger.HopPercentiles();
        LogGenerated(logger, modelId, generated.Count, ledger.Hops);
        var result = new MoeGenerationResult
        {
            Tokens = [.. generated], Steps = steps, Hops = ledger.Hops, FrameBytes = ledger.FrameBytes, HopP50Us = p50, HopP99Us = p99,
            Deviations = ledger.Deviations(), Recoveries = [.. ledger.Recoveries], RoutingCounts = ledger.RoutingCounts,
            ExpertCount = shape.ExpertCount, BackboneSilo = silo.Name, Elapsed = Stopwatch.GetElapsedTime(started), PromptLogits = promptLogits,
        };
        await grains.GetGrain<IMoeStatsGrain>(modelId).RecordAsync(result, shape.LayerCount, request.PromptTokens.Length);
        return result;
    }

    private static async Task<ReadOnlyMemory<float>> StepAsync(
        IMoeBackboneSession session, int[] tokens, MoeLayerDispatcher dispatcher, MoePrefetcher prefetch, CancellationToken cancellationToken)
    {
        var routing = session.Begin(tokens);
        while (routing is not null)
        {
            var output = await dispatcher.RunAsync(routing, cancellationToken);
            prefetch.Observe(routing);
            routing = session.Continue(output);
        }

        return session.Logits;
    }

    private static void Validate(MoeGenerationRequest request, MoeModelShape shape, int contextSize)
    {
        var problems = new List<string>();
        if (request.PromptTokens is not { Length: > 0 })
        {
            problems.Add("the prompt has no tokens");
        }
        else if (request.PromptTokens.Any(t => t < 0 || t >= shape.VocabularySize))
        {
            problems.Add($"prompt tokens must be between 0 and {shape.VocabularySize - 1}");
        }

        if (request.MaxTokens < 1 || request.PromptTokens.Length + request.MaxTokens > Math.Min(contextSize, shape.ContextLength))
        {
            problems.Add($"prompt plus maxTokens must be between 1 and the context of {Math.Min(contextSize, shape.ContextLength)} tokens");
        }

        var options = request.Execution;
        if (options.Mode == MoeExecutionMode.Exact && options.FrameDType != ActivationDType.F32)
        {
            problems.Add("exact mode sends f32 frames; lower-precision frames are a budgeted-mode deviation");
        }

        if (!float.IsFinite(options.GateThreshold) || options.GateThreshold is < 0 or >= 1)
        {
            problems.Add("the gate threshold must be in [0, 1)");
        }

        if (options.SlowShardTimeout <= TimeSpan.Zero || options.RecoveryTimeout <= TimeSpan.Zero)
        {
            problems.Add("timeouts must be positive");
        }

        InvalidRequestException.ThrowIfAny(problems, "Mixture-of-Experts generation request");
    }

    private static int ArgMax(ReadOnlySpan<float> values)
    {
        var best = 0;
        for (var i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best])
            {
                best = i;
            }
        }

        return best;
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Model {Model} generated {Tokens} tokens with {Hops} shard hops")]
    private static partial void LogGenerated(ILogger logger, string model, int tokens, long hops);
}
