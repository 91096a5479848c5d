using System.Globalization;
using MoeMesh.Cli.Common;
using MoeMesh.Inference.Gguf;
using MoeMesh.Inference.Moe.Synthesis;

namespace MoeMesh.Cli.Models;

/// <summary>The <c>--moe</c> half of <c>moemesh models synth</c>: a tiny random Mixture-of-Experts GGUF.</summary>
internal static class ModelsSynthMoe
{
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
