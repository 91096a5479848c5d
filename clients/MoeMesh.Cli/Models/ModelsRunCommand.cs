using System.CommandLine;
using System.Globalization;
using System.Text;
using MoeMesh.Cli.Common;
using MoeMesh.Errors;
using MoeMesh.Experts;
using MoeMesh.Generation;
using MoeMesh.Inference.Experts;
using MoeMesh.Inference.Llama;

namespace MoeMesh.Cli.Models;

/// <summary><c>moemesh models run &lt;manifest-or-gguf&gt; --prompt …</c>: one generation through the llama.cpp engine.</summary>
public static class ModelsRunCommand
{
    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = "An expert manifest (.json) or a GGUF file." };
        var prompt = new Option<string>("--prompt") { Description = "The user message.", Required = true };
        var system = new Option<string?>("--system") { Description = "A system message before the prompt." };
        var raw = new Option<bool>("--raw") { Description = "Send the prompt as is, without the chat template." };
        var maxTokens = new Option<int>("--max-tokens") { Description = "Most tokens to generate.", DefaultValueFactory = _ => 128 };
        var temperature = new Option<float>("--temperature") { Description = "Sampling temperature; 0 is greedy.", DefaultValueFactory = _ => 0f };
        var topK = new Option<int>("--top-k") { Description = "Top-k filter (0 = off).", DefaultValueFactory = _ => 40 };
        var topP = new Option<float>("--top-p") { Description = "Top-p filter (1 = off).", DefaultValueFactory = _ => 0.95f };
        var minP = new Option<float>("--min-p") { Description = "Min-p filter (0 = off).", DefaultValueFactory = _ => 0.05f };
        var repeatPenalty = new Option<float>("--repeat-penalty") { Description = "Repetition penalty (1 = off).", DefaultValueFactory = _ => 1f };
        var seed = new Option<uint>("--seed") { Description = "Sampling seed.", DefaultValueFactory = _ => 42u };
        var stop = new Option<string[]>("--stop") { Description = "Stop before this text (repeatable).", AllowMultipleArgumentsPerToken = false };
        var threads = new Option<int?>("--threads") { Description = "CPU threads (default: the manifest's, else the processor count)." };
        var context = new Option<int?>("--context") { Description = "Context window for a bare GGUF file (default 2048)." };
        var json = new Option<bool>("--json") { Description = "Print text and metrics as one JSON object instead of streaming." };
        var command = new Command("run", "Load a GGUF expert with the llama.cpp engine and generate one answer, streaming it, then its metrics.")
        {
            model, prompt, system, raw, maxTokens, temperature, topK, topP, minP, repeatPenalty, seed, stop, threads, context, json,
        };

        command.SetAction(async (parse, cancellationToken) =>
        {
            var stdout = parse.InvocationConfiguration.Output;
            var stderr = parse.InvocationConfiguration.Error;
            ExpertManifest manifest;
            try
            {
                manifest = LoadManifest(parse.GetValue(model)!, parse.GetValue(context), parse.GetValue(threads));
            }
            catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException or ArgumentException)
            {
                stderr.WriteLine($"error: {e.Message}");
                return 1;
            }

            var turns = new List<ChatTurn>();
            if (parse.GetValue(system) is { Length: > 0 } systemText)
            {
                turns.Add(ChatTurn.System(systemText));
            }

            turns.Add(ChatTurn.User(parse.GetValue(prompt)!));
            var request = new GenerationRequest
            {
                Messages = turns,
                RawPrompt = parse.GetValue(raw) ? parse.GetValue(prompt) : null,
                MaxTokens = parse.GetValue(maxTokens),
                Stop = parse.GetValue(stop) ?? [],
                Sampling = new SamplingOptions
                {
                    Temperature = parse.GetValue(temperature),
                    TopK = parse.GetValue(topK),
                    TopP = parse.GetValue(topP),
                    MinP = parse.GetValue(minP),
                    RepetitionPenalty = parse.GetValue(repeatPenalty),
                    Seed = parse.GetValue(seed),
                },
            };

            try
            {
                await GenerateAsync(stdout, manifest, request, parse.GetValue(json), cancellationToken);
                return 0;
            }
            catch (OperationCanceledException)
            {
                stderr.WriteLine();
                stderr.WriteLine("cancelled");
                return 130;
            }
            catch (MoeMeshException e)
            {
                stderr.WriteLine($"error: {e.Message}");
                return 1;
            }
        });
        return command;
    }

    /// <summary>Loads the expert and streams one answer (or prints it as JSON), then its metrics.</summary>
    private static async Task GenerateAsync(TextWriter stdout, ExpertManifest manifest, GenerationRequest request, bool asJson, CancellationToken cancellationToken)
    {
        var provider = new LlamaEngineProvider(new LlamaEngineOptions { SequencesPerContext = 1 });
        await using var engine = await provider.LoadAsync(manifest, cancellationToken: cancellationToken);
        var text = new StringBuilder();
        GenerationMetrics? metrics = null;
        await foreach (var chunk in engine.GenerateAsync(request, cancellationToken))
        {
            text.Append(chunk.Text);
            metrics = chunk.Metrics ?? metrics;
            if (!asJson)
            {
                stdout.Write(chunk.Text);
                stdout.Flush();
            }
        }

        if (asJson)
        {
            stdout.WriteLine(CliJson.Serialize(new { expert = manifest.Id, model = manifest.ModelPath, chatTemplate = engine.ChatTemplate, text = text.ToString(), metrics }));
        }
        else if (metrics is not null)
        {
            stdout.WriteLine();
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"-- {metrics.FinishReason}: {metrics.PromptTokens} prompt tokens, {metrics.GeneratedTokens} generated; " +
                $"first token after {metrics.TimeToFirstTokenMs:F1} ms; prefill {metrics.PrefillTokensPerSecond:F0} tokens/s, " +
                $"decode {metrics.DecodeTokensPerSecond:F1} tokens/s; total {metrics.TotalMs:F0} ms"));
        }
    }

    private static ExpertManifest LoadManifest(string path, int? contextSize, int? threads)
    {
        ExpertManifest manifest;
        if (path.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
        {
            manifest = ExpertManifestFile.Read(path);
            if (contextSize is { } size)
            {
                manifest = manifest with { ContextSize = size };
            }
        }
        else
        {
            // A bare model file: a manifest just for this run, named after the file.
            var id = new string([.. Path.GetFileNameWithoutExtension(path).ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '-')]);
            manifest = new ExpertManifest
            {
                Id = id.Length == 0 || !char.IsAsciiLetterOrDigit(id[0]) ? "model" + id : id,
                Engine = ExpertEngines.LlamaCpp,
                ModelPath = Path.GetFullPath(path),
                ContextSize = contextSize ?? 2048,
            };
        }

        if (threads is { } count)
        {
            var options = new Dictionary<string, string>(manifest.EngineOptions) { ["threads"] = count.ToString(CultureInfo.InvariantCulture) };
            manifest = manifest with { EngineOptions = options };
        }

        return manifest;
    }
}
