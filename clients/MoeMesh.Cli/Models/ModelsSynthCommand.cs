using System.CommandLine;
using System.Globalization;
using MoeMesh.Cli.Common;
using MoeMesh.Inference.Gguf;
using MoeMesh.Inference.Moe.Synthesis;
using MoeMesh.Inference.Synthesis;

namespace MoeMesh.Cli.Models;

/// <summary><c>moemesh models synth --out &lt;dir&gt;</c>: writes a tiny llama GGUF expert and its manifest.</summary>
public static class ModelsSynthCommand
{
    public static Command Create()
    {
        var output = new Option<string>("--out") { Description = "Folder to write <name>.gguf and <name>.json into.", Required = true };
        var name = new Option<string>("--name") { Description = "Model name and expert id (lower-case letters, digits, '-', '_', '.').", DefaultValueFactory = _ => "tiny-llama" };
        var layers = new Option<int>("--layers") { Description = "Transformer blocks.", DefaultValueFactory = _ => 2 };
        var hidden = new Option<int>("--hidden") { Description = "Hidden size.", DefaultValueFactory = _ => 64 };
        var heads = new Option<int>("--heads") { Description = "Attention heads.", DefaultValueFactory = _ => 4 };
        var keyValueHeads = new Option<int?>("--kv-heads") { Description = "Key/value heads (grouped-query attention); default: as many as --heads." };
        var feedForward = new Option<int?>("--ff") { Description = "Feed-forward size; default: 8/3 of the hidden size, rounded up to 32." };
        var vocabulary = new Option<string?>("--vocab") { Description = "Copy the tokenizer of another GGUF (a model or a vocab-only file), or \"gpt-2\" for GPT-2's BPE tokenizer, instead of the built-in byte-fallback vocabulary." };
        var vocabularySize = new Option<int>("--vocab-size") { Description = "Tokens of the built-in byte-fallback tokenizer (without --vocab).", DefaultValueFactory = _ => 512 };
        var context = new Option<int>("--context") { Description = "Context window in tokens (model and manifest).", DefaultValueFactory = _ => 2048 };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the weights; the same options always give the same file.", DefaultValueFactory = _ => 1UL };
        var f16 = new Option<bool>("--f16") { Description = "Store the matrices as F16 instead of F32." };
        var influence = new Option<float>("--context-influence") { Description = "How much context steers the output (0 = a fixed token chain).", DefaultValueFactory = _ => 1f };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON." };
        var moe = new ModelsSynthMoe.Options();

        var command = new Command("synth", "Write a tiny llama-architecture GGUF expert with seeded random weights, and its manifest; with --moe, a tiny Mixture-of-Experts GGUF.")
        {
            output, name, layers, hidden, heads, keyValueHeads, feedForward, vocabulary, vocabularySize, context, seed, f16, influence, json,
        };
        foreach (var option in moe.All)
        {
            command.Options.Add(option);
        }

        command.SetAction(parse =>
        {
            var stdout = parse.InvocationConfiguration.Output;
            var stderr = parse.InvocationConfiguration.Error;
            try
            {
                if (parse.GetValue(moe.Moe))
                {
                    var moeOptions = moe.Read(parse, new ModelsSynthMoe.Shared(name, layers, hidden, heads, keyValueHeads, vocabularySize, context, seed, f16));
                    return ModelsSynthMoe.Run(parse.GetValue(output)!, moeOptions, parse.GetValue(json), stdout);
                }

                var vocabularyPath = parse.GetValue(vocabulary) is { } v ? VocabularyLocator.Resolve(v) : null;
                var contextSize = parse.GetValue(context);
                var options = new TinyLlamaOptions
                {
                    Name = parse.GetValue(name)!,
                    Layers = parse.GetValue(layers),
                    EmbeddingLength = parse.GetValue(hidden),
                    HeadCount = parse.GetValue(heads),
                    KeyValueHeadCount = parse.GetValue(keyValueHeads),
                    FeedForwardLength = parse.GetValue(feedForward),
                    VocabularyPath = vocabularyPath,
                    VocabularySize = parse.GetValue(vocabularySize),
                    ContextLength = contextSize,
                    Seed = parse.GetValue(seed),
                    WeightType = parse.GetValue(f16) ? GgmlType.F16 : GgmlType.F32,
                    ContextInfluence = parse.GetValue(influence),
                };
                var expert = SynthesizedExpert.Write(parse.GetValue(output)!, options, contextSize);
                Report(stdout, expert, options, contextSize, vocabularyPath, parse.GetValue(json));
                return 0;
            }
            catch (Exception e) when (e is ArgumentException or IOException or UnauthorizedAccessException or GgufFormatException)
            {
                var message = e is ArgumentException { ParamName: { } parameter } ? e.Message.Replace($" (Parameter '{parameter}')", "", StringComparison.Ordinal) : e.Message;
                stderr.WriteLine($"error: {message}");

                // A bad option or tokenizer file is the caller's input; a failed write is not.
                return e is ArgumentException or FileNotFoundException or GgufFormatException ? ExitCodes.Usage : ExitCodes.Failed;
            }
        });
        return command;
    }

    /// <summary>What was written: JSON for scripts, or lines for a person with the next command to try.</summary>
    private static void Report(TextWriter stdout, SynthesizedExpert expert, TinyLlamaOptions options, int contextSize, string? vocabularyPath, bool json)
    {
        if (json)
        {
            stdout.WriteLine(CliJson.Serialize(new
            {
                model = expert.Model.Path,
                manifest = expert.ManifestPath,
                expertId = expert.Manifest.Id,
                fileBytes = expert.Model.FileBytes,
                parameters = expert.Model.ParameterCount,
                vocabularySize = expert.Model.VocabularySize,
                layers = options.Layers,
                hidden = options.EmbeddingLength,
                heads = options.HeadCount,
                keyValueHeads = options.EffectiveKeyValueHeadCount,
                feedForward = options.EffectiveFeedForwardLength,
                contextSize,
                seed = options.Seed,
                weightType = options.WeightType.ToString(),
                tokenizer = vocabularyPath ?? "byte-fallback",
            }));
        }
        else
        {
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Wrote {expert.Model.Path} ({expert.Model.FileBytes:N0} bytes, {expert.Model.ParameterCount:N0} parameters, vocabulary {expert.Model.VocabularySize})"));
            stdout.WriteLine($"  and {expert.ManifestPath} (expert '{expert.Manifest.Id}', engine llama.cpp, context {contextSize}).");
            stdout.WriteLine($"Try it: moemesh models run {expert.ManifestPath} --prompt \"Hello\"");
        }
    }
}
