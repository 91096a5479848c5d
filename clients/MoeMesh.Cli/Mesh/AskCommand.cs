using System.CommandLine;
using System.Text.Json;
using MoeMesh.Cli.Common;
using MoeMesh.Client;
using MoeMesh.Errors;
using MoeMesh.Queries;

namespace MoeMesh.Cli.Mesh;

/// <summary><c>moemesh ask "…"</c>: streams the answer, then the routing decision and per-expert accounting.</summary>
public static class AskCommand
{
    public static Command Create()
    {
        var prompt = new Argument<string>("prompt") { Description = "The question." };
        var gateway = MeshOptions.Gateway();
        var json = MeshOptions.Json();
        var query = new MeshOptions.QueryOptionSet();
        var command = new Command("ask", "Ask the mesh a question; streams the answer, then shows the routing decision and what each expert cost.");
        command.Arguments.Add(prompt);
        command.Options.Add(gateway);
        command.Options.Add(json);
        query.AddTo(command);
        command.SetAction(async (result, cancellationToken) =>
        {
            var output = result.InvocationConfiguration.Output;
            var error = result.InvocationConfiguration.Error;
            try
            {
                await using var connection = await MeshConnection.OpenAsync(result.GetValue(gateway) ?? [], cancellationToken);
                return await RunAsync(connection.Client, query.ToQuery(result, result.GetRequiredValue(prompt)), result.GetValue(json), output, error, cancellationToken);
            }
            catch (MeshUnreachableException ex)
            {
                await error.WriteLineAsync($"moemesh ask: {ex.Message}");
                return ExitCodes.MeshUnreachable;
            }
        });
        return command;
    }

    /// <summary>Runs one query, streaming to <paramref name="output"/> (or writing JSON at the end).</summary>
    public static async Task<int> RunAsync(IMoeMeshClient client, Query query, bool json, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        try
        {
            QueryResult? result = null;
            var multi = false;
            string? answering = null;
            await foreach (var e in client.StreamAsync(query, cancellationToken))
            {
                switch (e)
                {
                    case PlanChosen plan:
                        multi = plan.Plan.Steps.Count(s => s.Role == ExpertRole.Responder) > 1;
                        if (!json)
                        {
                            var who = string.Join(", ", plan.Plan.Steps.Select(s => s.ExpertId));
                            await error.WriteLineAsync($"[plan] {who}{(multi ? " (answers will be combined)" : "")}");
                        }

                        break;
                    case TokenProduced { IsAnswer: true } token when !json:
                        if (multi && answering != token.ExpertId)
                        {
                            answering = token.ExpertId;
                            await output.WriteLineAsync();
                            await output.WriteLineAsync($"[answer, by {token.ExpertId}]");
                        }

                        await output.WriteAsync(token.Text);
                        await output.FlushAsync(cancellationToken);
                        break;
                    case RunFinished run when !json && multi:
                        await error.WriteLineAsync($"[{run.Run.ExpertId}] {run.Run.Outcome}: {Excerpt(run.Run.Text)}");
                        break;
                    case QueryNotice notice when !json:
                        await error.WriteLineAsync($"[notice] {notice.Message}");
                        break;
                    case QueryCompleted completed:
                        result = completed.Result;
                        break;
                }
            }

            if (result is null)
            {
                await error.WriteLineAsync("moemesh ask: the query ended without a result.");
                return ExitCodes.Failed;
            }

            if (json)
            {
                await output.WriteLineAsync(JsonSerializer.Serialize(result, CliJson.Options));
            }
            else
            {
                await output.WriteLineAsync();
                QueryReport.WriteResult(result, output);
            }

            return ExitCodes.Ok;
        }
        catch (InvalidRequestException ex)
        {
            await error.WriteLineAsync($"moemesh ask: {ex.Message}");
            return ExitCodes.Usage;
        }
        catch (MoeMeshException ex)
        {
            await error.WriteLineAsync($"moemesh ask: {ex.Message}");
            return ExitCodes.Failed;
        }
    }

    private static string Excerpt(string text)
    {
        var flat = text.ReplaceLineEndings(" ").Trim();
        return flat.Length <= 100 ? flat : flat[..100] + "…";
    }
}
