using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using MoeMesh.Activations;
using MoeMesh.Cli.Mesh;
using MoeMesh.Experts;
using MoeMesh.Inference.Moe.Oracle;
using MoeMesh.Serialization;
using MoeMesh.TokenPath;

namespace MoeMesh.Cli.Bench;

/// <summary>Decode speed of the model with its expert shards over <see cref="Silos"/> silo processes.</summary>
public sealed record MoeDistributedSpeed(int Silos, double TokensPerSecond, IReadOnlyList<double> Rounds, double BytesPerToken, long Hops, int Steps);

/// <summary>
/// The distributed figures of <c>moemesh bench moe</c>: decode over 2 and 3 silo processes, the activation
/// hop, and the oracle of a generation over 2 silo processes (every prompt position's logits and the greedy
/// continuation against llama.cpp).
/// </summary>
public sealed record MoeDistributedBenchReport(IReadOnlyList<MoeDistributedSpeed> Speeds, HopBenchReport? Hop, MoeOracleReport? Oracle);

/// <summary>
/// Starts silo processes on loopback holding one <c>moe</c> manifest for the model, generates through
/// the backbone grain, and (on two silos) measures the activation hop as <c>moemesh bench hop</c> does.
/// </summary>
public static class MoeDistributedBenchRunner
{
    private const string ModelId = "bench-moe";

    public static async Task<MoeDistributedBenchReport> RunAsync(
        string modelPath, long parameters, int[] prompt, int decodeTokens, int rounds, IReadOnlyList<int> siloCounts, int hiddenSize,
        (int Silo, int Gateway) firstPorts, TextWriter progress, CancellationToken cancellationToken)
    {
        var folder = Directory.CreateTempSubdirectory("moemesh-bench-moe-manifests-").FullName;
        try
        {
            var speeds = new List<MoeDistributedSpeed>();
            HopBenchReport? hop = null;
            MoeOracleReport? oracle = null;
            foreach (var count in siloCounts)
            {
                WriteManifest(folder, modelPath, parameters, count, prompt.Length + decodeTokens);
                var silos = LocalMesh.Plan(Enumerable.Repeat("rtx-4090-desktop", count).ToList(), firstPorts.Silo, firstPorts.Gateway);
                await using var mesh = await MeshBringUp.StartAsync(silos, [folder], [], progress, cancellationToken);
                var grains = mesh.Connection.Services.GetRequiredService<IGrainFactory>();
                if (count == 2)
                {
                    hop = await HopBenchRunner.MeasureAsync(mesh, hiddenSize, 2000, progress, cancellationToken);
                    await progress.WriteLineAsync($"[bench moe] oracle over 2 silo processes: {prompt.Length}-token prompt, every position's logits, {decodeTokens}-token greedy continuation against llama.cpp…");
                    oracle = await OracleAsync(grains, modelPath, prompt, decodeTokens);
                }

                await progress.WriteLineAsync($"[bench moe] decoding over {count} silo processes: {rounds} rounds of {decodeTokens} tokens…");
                speeds.Add(await DecodeAsync(grains, count, prompt, decodeTokens, rounds));
            }

            return new MoeDistributedBenchReport(speeds, hop, oracle);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static void WriteManifest(string folder, string modelPath, long parameters, int silos, int context)
    {
        var manifest = new ExpertManifest
        {
            Id = ModelId, Engine = ExpertEngines.Moe, ModelPath = Path.GetFullPath(modelPath), ParameterCount = parameters, Quantization = "F32",
            ContextSize = Math.Max(context, 64),
            EngineOptions = new Dictionary<string, string> { ["shards_per_layer"] = silos.ToString(System.Globalization.CultureInfo.InvariantCulture) },
        };
        File.WriteAllText(Path.Combine(folder, ModelId + ".json"), JsonSerializer.Serialize(manifest, MoeMeshJson.Options));
    }

    /// <summary>A generation over the silos with every prompt position's logits, against llama.cpp in this process on the same file.</summary>
    private static async Task<MoeOracleReport> OracleAsync(IGrainFactory grains, string modelPath, int[] prompt, int decodeTokens)
    {
        var result = await grains.GetGrain<IMoeBackboneGrain>($"{ModelId}/oracle").GenerateAsync(new MoeGenerationRequest
        {
            PromptTokens = prompt, MaxTokens = decodeTokens, IncludePromptLogits = true,
        });
        using var llama = LlamaCppMoeOracle.Open(modelPath, contextSize: Math.Max(prompt.Length + decodeTokens, 64));
        return MoeOracleComparison.Compare(result.PromptLogits, result.Tokens, llama, prompt);
    }

    private static async Task<MoeDistributedSpeed> DecodeAsync(IGrainFactory grains, int silos, int[] prompt, int decodeTokens, int rounds)
    {
        // One backbone grain (one silo, its backbone loaded once) serves every run. A warm-up
        // generation activates it and every shard; each round then times, inside the grain, the
        // prompt plus one token and the prompt plus all tokens, so the prompt's prefill cancels out.
        var sequence = $"bench-{silos}";
        await GenerateAsync(grains, sequence, prompt, 2);
        var perRound = new List<double>();
        MoeGenerationResult last = null!;
        for (var round = 0; round < rounds; round++)
        {
            var one = await GenerateAsync(grains, sequence, prompt, 1);
            var all = await GenerateAsync(grains, sequence, prompt, decodeTokens);
            var decode = all.Elapsed - one.Elapsed;
            if (decode > TimeSpan.Zero)
            {
                perRound.Add((all.Tokens.Length - 1) / decode.TotalSeconds);
            }

            last = all;
        }

        if (perRound.Count == 0)
        {
            throw new InvalidOperationException($"No round over {silos} silos took longer to decode {decodeTokens} tokens than one; use more --tokens.");
        }

        var sorted = perRound.Order().ToList();
        var bytesPerToken = last.FrameBytes / (double)(prompt.Length + last.Tokens.Length - 1);
        return new MoeDistributedSpeed(silos, sorted[sorted.Count / 2], perRound, bytesPerToken, last.Hops, last.Steps);
    }

    private static Task<MoeGenerationResult> GenerateAsync(IGrainFactory grains, string sequence, int[] prompt, int tokens)
        => grains.GetGrain<IMoeBackboneGrain>($"{ModelId}/{sequence}").GenerateAsync(new MoeGenerationRequest
        {
            PromptTokens = prompt, MaxTokens = tokens, Execution = new MoeExecutionOptions { FrameDType = ActivationDType.F32 },
        });
}
