using System.CommandLine;
using System.Globalization;
using MoeMesh.Cli.Common;
using MoeMesh.Cli.Models.Hub;

namespace MoeMesh.Cli.Models;

/// <summary>
/// <c>moemesh models pull &lt;org/name&gt; [file.gguf | --quant Q4_K_M]</c>: a GGUF model from the Hugging
/// Face hub into the model cache, with its expert manifest, ready for a silo.
/// </summary>
public static class ModelsPullCommand
{
    /// <summary>How long connecting to the hub may take before it counts as offline.</summary>
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(15);

    public static Command Create()
    {
        var repository = new Argument<string>("repository") { Description = "The hub repository, organization/name (such as Qwen/Qwen2.5-0.5B-Instruct-GGUF)." };
        var file = new Argument<string?>("file") { Description = "The GGUF file in the repository; default: the one of --quant.", Arity = ArgumentArity.ZeroOrOne };
        var quant = new Option<string?>("--quant") { Description = $"Pick the repository's GGUF file of this quantisation (default {PullRequest.DefaultQuant} when no file is named)." };
        var revision = new Option<string>("--revision") { Description = "Branch, tag or commit.", DefaultValueFactory = _ => "main" };
        var id = new Option<string?>("--id") { Description = "Expert id in the manifest (default: from the file name)." };
        var skills = new Option<string[]>("--skill") { Description = "A skill for the manifest (repeatable; default: from the model's names and tags)." };
        var context = new Option<int?>("--context") { Description = $"Context window in the manifest (default: the model's, at most {GgufExpertManifest.DefaultContextSize})." };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON on stdout (progress stays on stderr)." };
        var command = new Command("pull", "Download a GGUF model from the Hugging Face hub (HF_ENDPOINT, HF_TOKEN) into the model cache (MOEMESH_MODELS_DIR, default ~/.moemesh/models), resuming and verifying it, and write its expert manifest.")
        {
            repository, file, quant, revision, id, skills, context, json,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var stdout = parse.InvocationConfiguration.Output;
            var stderr = parse.InvocationConfiguration.Error;
            try
            {
                var settings = HubSettings.FromEnvironment();
                if (parse.GetValue(file) is not null && parse.GetValue(quant) is not null)
                {
                    throw new ArgumentException("Name either a file or --quant, not both.");
                }

                var request = new PullRequest(HubRepository.Parse(parse.GetValue(repository)!))
                {
                    File = parse.GetValue(file),
                    Quant = parse.GetValue(quant),
                    Revision = parse.GetValue(revision) is { Length: > 0 } r ? r : "main",
                    Manifest = new ManifestChoices { Id = parse.GetValue(id), Skills = parse.GetValue(skills), ContextSize = parse.GetValue(context) },
                };
                using var http = HubClient.CreateHttpClient(ConnectTimeout);
                var puller = new ModelPuller(new HubClient(http, settings), new ModelCache(settings.ModelsDirectory));
                var result = await puller.PullAsync(request, stderr, cancellationToken);
                Write(result, parse.GetValue(json), stdout);
                return ExitCodes.Ok;
            }
            catch (HubException ex)
            {
                await stderr.WriteLineAsync($"moemesh models pull: {ex.Message}");
                return ex.ExitCode;
            }
            catch (ArgumentException ex)
            {
                await stderr.WriteLineAsync($"moemesh models pull: {ex.Message}");
                return ExitCodes.Usage;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                await stderr.WriteLineAsync($"moemesh models pull: cannot write the model cache: {ex.Message}");
                return ExitCodes.Failed;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                await stderr.WriteLineAsync("cancelled; run the same command again to resume the download");
                return 130;
            }
        });
        return command;
    }

    private static void Write(PullResult result, bool json, TextWriter stdout)
    {
        if (json)
        {
            stdout.WriteLine(CliJson.Serialize(result));
            return;
        }

        var c = CultureInfo.InvariantCulture;
        var how = result.Downloaded
            ? string.Create(c, $"downloaded in {result.Seconds:0.0} s{(result.ResumedFrom > 0 ? $", resumed at {result.ResumedFrom / 1e6:0.0} MB" : "")}")
            : "already in the cache";
        stdout.WriteLine(string.Create(c, $"{result.Repository}/{result.File}: {result.Bytes / 1e6:0.0} MB, {how}"));
        stdout.WriteLine(result.Verified ? $"  SHA-256 {result.Sha256} (matches the hub)" : $"  SHA-256 {result.Sha256} (the hub publishes no hash for this file)");
        stdout.WriteLine(string.Create(c, $"  expert '{result.ExpertId}': {result.ParameterCount / 1e9:0.00}B parameters, {result.Quantization}; manifest {result.ManifestPath}"));
        stdout.WriteLine($"Try it: moemesh models run {result.ManifestPath} --prompt \"Hello\"");
        stdout.WriteLine($"   or:  moemesh up --experts {Path.GetDirectoryName(result.ManifestPath)}");
    }
}
