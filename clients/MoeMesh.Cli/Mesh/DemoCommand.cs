using System.CommandLine;
using MoeMesh.Cli.Common;

namespace MoeMesh.Cli.Mesh;

/// <summary>
/// <c>moemesh demo</c>: the whole path in one command. Starts a local mesh (Jetson + RTX 4090
/// profiles) with the demo experts (the real panel of <see cref="DemoPanel"/> when the hub is in
/// reach or it is cached, else the synthesized ones), asks one question through the SDK, prints the
/// answer with its routing decision and accounting, and stops the mesh.
/// </summary>
public static class DemoCommand
{
    public const string DefaultPrompt = "What is 7 times 6? Show the arithmetic.";

    public static Command Create()
    {
        var up = new UpOptions();
        var prompt = new Option<string>("--prompt") { Description = "The question to ask.", DefaultValueFactory = _ => DefaultPrompt };
        var json = MeshOptions.Json();
        var offline = new Option<bool>("--offline") { Description = "Do not reach for the model hub: run on the synthesized demo experts (random weights)." };
        var query = new MeshOptions.QueryOptionSet();
        var command = new Command("demo", "Start a local two-silo mesh, answer one question end to end with llama.cpp experts, print the plan and accounting, and stop.");
        up.AddTo(command);
        command.Options.Add(prompt);
        command.Options.Add(json);
        command.Options.Add(offline);
        query.AddTo(command);
        command.SetAction(async (result, cancellationToken) =>
        {
            var progress = result.InvocationConfiguration.Error;
            try
            {
                var folders = up.HasExperts(result)
                    ? await up.ResolveExpertFoldersAsync(result, progress, cancellationToken)
                    : await DemoPanel.ResolveAsync(result.GetValue(offline), progress, cancellationToken)
                        ?? await up.ResolveExpertFoldersAsync(result, progress, cancellationToken);
                await using var mesh = await MeshBringUp.StartAsync(up.Silos(result), folders, up.ExtraArguments(result), progress, cancellationToken);
                var question = result.GetValue(prompt) ?? DefaultPrompt;
                await progress.WriteLineAsync($"asking: {question}");
                var code = await AskCommand.RunAsync(
                    mesh.Connection.Client,
                    query.ToQuery(result, question),
                    result.GetValue(json),
                    result.InvocationConfiguration.Output,
                    progress,
                    cancellationToken);
                await progress.WriteLineAsync("stopping the mesh…");
                return code;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return ExitCodes.Failed;
            }
            catch (Exception ex) when (ex is InvalidOperationException or TimeoutException or MeshUnreachableException or IOException)
            {
                await progress.WriteLineAsync($"moemesh demo: {ex.Message}");
                return ExitCodes.Failed;
            }
        });
        return command;
    }
}
