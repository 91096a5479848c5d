using System.CommandLine;
using MoeMesh.Cli.Common;
using MoeMesh.Cli.Models.Hub;

namespace MoeMesh.Cli.Models;

/// <summary><c>moemesh models list</c>: the models in the cache.</summary>
public static class ModelsListCommand
{
    public static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "Print the list as JSON." };
        var command = new Command("list", "List the models in the model cache (MOEMESH_MODELS_DIR, default ~/.moemesh/models).") { json };
        command.SetAction(parse =>
        {
            var stdout = parse.InvocationConfiguration.Output;
            try
            {
                var cache = new ModelCache(HubSettings.FromEnvironment().ModelsDirectory);
                var models = cache.List();
                if (parse.GetValue(json))
                {
                    stdout.WriteLine(CliJson.Serialize(new
                    {
                        directory = cache.Directory,
                        models = models.Select(m => new
                        {
                            name = m.Name,
                            path = m.Path,
                            bytes = m.Bytes,
                            partial = m.Partial,
                            expertId = m.Manifest?.Id,
                            manifest = m.ManifestPath,
                            quantization = m.Manifest?.Quantization,
                            parameterCount = m.Manifest?.ParameterCount,
                            skills = m.Manifest?.Skills,
                            repository = m.Origin?.Repository,
                            commit = m.Origin?.Commit,
                            sha256 = m.Origin?.Sha256,
                            verified = m.Origin?.Verified,
                            pulledAt = m.Origin?.PulledAt,
                        }),
                    }));
                    return ExitCodes.Ok;
                }

                if (models.Count == 0)
                {
                    stdout.WriteLine($"No models in {cache.Directory}. Get one: moemesh models pull Qwen/Qwen2.5-0.5B-Instruct-GGUF --quant Q4_K_M");
                    return ExitCodes.Ok;
                }

                var table = new TextTable("NAME", "EXPERT", "SIZE", "QUANT", "PARAMS", "PULLED");
                foreach (var m in models)
                {
                    table.Add(
                        m.Name,
                        m.Partial ? "(partial download)" : m.Manifest?.Id ?? "(no manifest)",
                        Units.Bytes(m.Bytes),
                        m.Manifest?.Quantization,
                        m.Manifest is { ParameterCount: > 0 } manifest ? $"{manifest.ParameterCount / 1e9:0.00}B" : null,
                        m.Origin?.PulledAt.ToString("yyyy-MM-dd HH:mm", System.Globalization.CultureInfo.InvariantCulture));
                }

                stdout.WriteLine(cache.Directory);
                table.WriteTo(stdout);
                return ExitCodes.Ok;
            }
            catch (ArgumentException ex)
            {
                parse.InvocationConfiguration.Error.WriteLine($"moemesh models list: {ex.Message}");
                return ExitCodes.Usage;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                parse.InvocationConfiguration.Error.WriteLine($"moemesh models list: cannot read the model cache: {ex.Message}");
                return ExitCodes.Failed;
            }
        });
        return command;
    }
}
