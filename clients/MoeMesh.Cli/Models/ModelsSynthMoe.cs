using System.CommandLine;
using System.Globalization;
using MoeMesh.Cli.Common;
using MoeMesh.Inference.Gguf;
using MoeMesh.Inference.Moe.Synthesis;

namespace MoeMesh.Cli.Models;

/// <summary>The <c>--moe</c> half of <c>moemesh models synth</c>: a tiny random Mixture-of-Experts GGUF.</summary>
internal static class ModelsSynthMoe
{
    /// <summary>The options <c>synth</c> shares between llama experts and MoE models.</summary>
    public sealed record Shared(
        Option<string> Name, Option<int> Layers, Option<int> Hidden, Option<int> Heads, Option<int?> KeyValueHeads,
        Option<int> VocabularySize, Option<int> Context, Option<ulong> Seed, Option<bool> F16);

    /// <summary>The MoE-only options of <c>synth</c>.</summary>
    public sealed class Options
    {
        public Option<bool> Moe { get; } = new("--moe") { Description = "Write a Mixture-of-Experts GGUF with no tokenizer (token ids are fed directly) instead of a llama expert." };

        public Option<string> Architecture { get; } = new("--arch") { Description = "MoE architecture: llama (Mixtral-style), qwen2moe, qwen3moe, olmoe.", DefaultValueFactory = _ => "qwen3moe" };

        public Option<int> Experts { get; } = new("--experts") { Description = "MoE: routed experts per layer.", DefaultValueFactory = _ => 8 };

        public Option<int> TopK { get; } = new("--top-k") { Description = "MoE: experts selected per token.", DefaultValueFactory = _ => 2 };

        public Option<int> ExpertFeedForward { get; } = new("--expert-ff") { Description = "MoE: inner size of one expert.", DefaultValueFactory = _ => 32 };

        public Option<int?> SharedFeedForward { get; } = new("--shared-ff") { Description = "MoE (qwen2moe): inner size of the shared expert; default twice --expert-ff." };

        public Option<string?> Type { get; } = new("--type") { Description = "MoE: matrix type f32, f16 or q8_0 (default f32)." };

        public IEnumerable<Option> All => [Moe, Architecture, Experts, TopK, ExpertFeedForward, SharedFeedForward, Type];

        /// <summary>The synthesis options from the command line; MoE defaults where a shared option was not given.</summary>
        public MoeSynthesisOptions Read(ParseResult parse, Shared shared) => new()
        {
            Architecture = parse.GetValue(Architecture)!,
            Name = parse.GetResult(shared.Name) is { Implicit: false } ? parse.GetValue(shared.Name)! : $"tiny-{parse.GetValue(Architecture)}",
            Layers = parse.GetValue(shared.Layers),
            Hidden = parse.GetValue(shared.Hidden),
            Heads = parse.GetValue(shared.Heads),
            KeyValueHeads = parse.GetValue(shared.KeyValueHeads),
            Experts = parse.GetValue(Experts),
            TopK = parse.GetValue(TopK),
            ExpertFeedForward = parse.GetValue(ExpertFeedForward),
            SharedFeedForward = parse.GetValue(SharedFeedForward),
            VocabularySize = parse.GetResult(shared.VocabularySize) is { Implicit: false } ? parse.GetValue(shared.VocabularySize) : 256,
            ContextLength = parse.GetResult(shared.Context) is { Implicit: false } ? parse.GetValue(shared.Context) : 512,
            Seed = parse.GetValue(shared.Seed),
            WeightType = parse.GetValue(shared.F16) ? GgmlType.F16 : ParseType(parse.GetValue(Type)),
        };
    }

    /// <summary>Parses a <c>--type</c> value.</summary>
    public static GgmlType ParseType(string? value) => value?.ToLowerInvariant() switch
    {
        null or "f32" => GgmlType.F32,
        "f16" => GgmlType.F16,
        "q8_0" or "q8" => GgmlType.Q8_0,
        _ => throw new ArgumentException($"--type '{value}' is not one of f32, f16, q8_0."),
    };

    /// <summary>Writes the model into <paramref name="folder"/> and prints what was written; returns the exit code.</summary>
    public static int Run(string folder, MoeSynthesisOptions options, bool json, TextWriter stdout)
    {
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, options.Name + ".gguf");
        var model = MoeSynthesizer.Write(path, options);
        if (json)
        {
            stdout.WriteLine(CliJson.Serialize(new
            {
                model = model.Path,
                fileBytes = model.FileBytes,
                parameters = model.ParameterCount,
                architecture = options.Architecture,
                layers = options.Layers,
                hidden = options.Hidden,
                heads = options.Heads,
                keyValueHeads = options.EffectiveKeyValueHeads,
                headSize = options.EffectiveHeadSize,
                experts = options.Experts,
                topK = options.TopK,
                expertFeedForward = options.ExpertFeedForward,
                sharedFeedForward = options.EffectiveSharedFeedForward,
                vocabularySize = options.VocabularySize,
                contextSize = options.ContextLength,
                seed = options.Seed,
                weightType = options.WeightType.ToString(),
                tokenizer = "no_vocab",
            }));
        }
        else
        {
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Wrote {model.Path} ({model.FileBytes:N0} bytes, {model.ParameterCount:N0} parameters)"));
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {options.Architecture}: {options.Layers} MoE layers, hidden {options.Hidden}, {options.Experts} experts of {options.ExpertFeedForward}, top-{options.TopK}, {options.WeightType}, no tokenizer (vocabulary {options.VocabularySize} token ids)."));
        }

        return ExitCodes.Ok;
    }
}
