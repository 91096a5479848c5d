using System.CommandLine;
using MoeMesh.Cli.Common;
using MoeMesh.Cli.Models.Hub;

namespace MoeMesh.Cli.Models;

/// <summary><c>moemesh models rm &lt;name&gt;</c>: removes models from the cache.</summary>
public static class ModelsRmCommand
{
    public static Command Create()
    {
        var name = new Argument<string>("name") { Description = "A name from `moemesh models list` (org/name/file.gguf), a repository (org/name: all its files) or an expert id." };
        var json = new Option<bool>("--json") { Description = "Print what was removed as JSON." };
        var command = new Command("rm", "Remove models from the model cache, with their manifests and partial downloads.") { name, json };
        command.SetAction(parse =>
        {
            var stdout = parse.InvocationConfiguration.Output;
            var stderr = parse.InvocationConfiguration.Error;
            try
            {
                var given = parse.GetValue(name)!;
                var removed = new ModelCache(HubSettings.FromEnvironment().ModelsDirectory).Remove(given);
                if (removed.Count == 0)
                {
                    stderr.WriteLine($"moemesh models rm: no model named \"{given}\" in the cache; `moemesh models list` shows the names.");
                    return ExitCodes.Usage;
                }

                if (parse.GetValue(json))
                {
                    stdout.WriteLine(CliJson.Serialize(new { removed = removed.Select(m => new { name = m.Name, path = m.Path, bytes = m.Bytes }) }));
                }
                else
                {
                    foreach (var model in removed)
                    {
                        stdout.WriteLine($"removed {model.Name} ({Units.Bytes(model.Bytes)})");
                    }
                }

                return ExitCodes.Ok;
            }
            catch (ArgumentException ex)
            {
                stderr.WriteLine($"moemesh models rm: {ex.Message}");
                return ExitCodes.Usage;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                stderr.WriteLine($"moemesh models rm: {ex.Message}");
                return ExitCodes.Failed;
            }
        });
        return command;
    }
}
