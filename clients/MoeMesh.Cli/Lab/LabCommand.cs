using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using MoeMesh.Cli.Common;
using MoeMesh.Cli.Eval;
using MoeMesh.Cli.Mesh;
using MoeMesh.Experts;
using MoeMesh.Evaluation.Replay;
using MoeMesh.Queries;
using MoeMesh.Routing.Data;
using MoeMesh.Serialization;

namespace MoeMesh.Cli.Lab;

/// <summary>
/// <c>moemesh lab experts|load</c>: the pieces <c>deploy/lab/fault-lab.sh</c> drives. Replay experts
/// answer recorded MMLU-Pro questions without model weights, so the lab measures the mesh, not a model.
/// </summary>
public static class LabCommand
{
    public static Command Create()
    {
        var command = new Command("lab", "Fault-lab helpers: replay expert manifests, and a query load that reports what a fault did to it.");
        command.Subcommands.Add(Experts());
        command.Subcommands.Add(Load());
        command.Subcommands.Add(Wait());
        return command;
    }

    private static Command Wait()
    {
        var gateway = MeshOptions.Gateway();
        var silos = new Option<int>("--silos") { Description = "Active silos to wait for.", Required = true };
        var within = new Option<double>("--timeout") { Description = "Most seconds to wait.", DefaultValueFactory = _ => 120 };
        var command = new Command("wait", "Wait until the mesh lists this many active silos and every expert has its replicas placed.");
        command.Options.Add(gateway);
        command.Options.Add(silos);
        command.Options.Add(within);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var stderr = parse.InvocationConfiguration.Error;
            var wanted = parse.GetValue(silos);
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(TimeSpan.FromSeconds(Math.Clamp(parse.GetValue(within), 1, 3600)));
            var seen = "nothing yet";
            try
            {
                await using var connection = await ConnectWhenUpAsync(parse.GetValue(gateway) ?? [], deadline.Token);
                while (true)
                {
                    try
                    {
                        var snapshot = await connection.Client.GetStatusAsync(deadline.Token);
                        var active = snapshot.Silos.Count(s => s.State == Catalog.SiloState.Active);
                        seen = $"{active} active silos, {snapshot.Replicas.Count} replicas, warnings: {(snapshot.Warnings.Count == 0 ? "none" : string.Join("; ", snapshot.Warnings))}";
                        if (active == wanted && snapshot.Warnings.Count == 0)
                        {
                            await parse.InvocationConfiguration.Output.WriteLineAsync($"{active} active silos");
                            return ExitCodes.Ok;
                        }
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        seen = ex.GetBaseException().Message;
                    }

                    await Task.Delay(TimeSpan.FromMilliseconds(500), TimeProvider.System, deadline.Token);
                }
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                await stderr.WriteLineAsync($"moemesh lab wait: the mesh did not reach {wanted} active silos in time; last seen: {seen}");
                return ExitCodes.Failed;
            }
        });
        return command;
    }

    /// <summary>Connects once a gateway answers: silos that are still starting are waited for, not reported.</summary>
    private static async Task<MeshConnection> ConnectWhenUpAsync(IReadOnlyList<string> gateways, CancellationToken cancellationToken)
    {
        while (true)
        {
            try
            {
                return await MeshConnection.OpenAsync(gateways, cancellationToken);
            }
            catch (MeshUnreachableException)
            {
                await Task.Delay(TimeSpan.FromSeconds(1), TimeProvider.System, cancellationToken);
            }
        }
    }

    private static Command Experts()
    {
        var output = new Option<string>("--out") { Description = "The folder for the manifests (created).", Required = true };
        var data = new Option<string?>("--data") { Description = "The recorded MMLU-Pro file or folder. Default: shared/data/mmlu-pro-29 above the current folder." };
        var experts = new Option<int>("--experts") { Description = "How many models of the edge pool to serve.", DefaultValueFactory = _ => 3 };
        var replicas = new Option<int>("--replicas") { Description = "Replicas of each expert, on different silos.", DefaultValueFactory = _ => 2 };
        var timeScale = new Option<double>("--time-scale") { Description = "Replayed latency as a fraction of the recorded one.", DefaultValueFactory = _ => 0.05 };
        var command = new Command("experts", "Write one replay expert manifest per model of the edge pool, placeable on any device.");
        command.Options.Add(output);
        command.Options.Add(data);
        command.Options.Add(experts);
        command.Options.Add(replicas);
        command.Options.Add(timeScale);
        command.SetAction(parse =>
        {
            try
            {
                var file = EvalInputs.LocateDataFile(parse.GetValue(data));
                var count = parse.GetValue(replicas) is var r and >= 1 and <= 8 ? r : throw new ArgumentException("--replicas must be between 1 and 8");
                var scale = parse.GetValue(timeScale) is var s && double.IsFinite(s) && s > 0 ? s : throw new ArgumentException("--time-scale must be a positive number");
                var folder = parse.GetValue(output)!;
                Directory.CreateDirectory(folder);
                var pool = RecordedModelCatalog.EdgePool;
                var take = parse.GetValue(experts) is var e && e >= 1 && e <= pool.Count ? e : throw new ArgumentException($"--experts must be between 1 and {pool.Count}");
                foreach (var model in pool.Take(take))
                {
                    RecordedModelCatalog.TryGet(model, out var catalogued);
                    ExpertManifest manifest = catalogued.ToManifest() with
                    {
                        RecordedModel = model,
                        ModelPath = file,
                        Replicas = count,
                        EngineOptions = new Dictionary<string, string>
                        {
                            [ReplayEngineProvider.TimeScaleOption] = scale.ToString("R", CultureInfo.InvariantCulture),
                            [ReplayEngineProvider.OutputTokensOption] = "16",
                        },
                    };
                    File.WriteAllText(Path.Combine(folder, manifest.Id + ".json"), JsonSerializer.Serialize(manifest, MoeMeshJson.Options));
                }

                parse.InvocationConfiguration.Output.WriteLine($"{take} replay experts in {Path.GetFullPath(folder)} (data {file})");
                return ExitCodes.Ok;
            }
            catch (Exception ex) when (ex is ArgumentException or IOException or UnauthorizedAccessException)
            {
                parse.InvocationConfiguration.Error.WriteLine($"moemesh lab experts: {ex.Message}");
                return ExitCodes.Usage;
            }
        });
        return command;
    }

    private static Command Load()
    {
        var gateway = MeshOptions.Gateway();
        var data = new Option<string?>("--data") { Description = "The recorded MMLU-Pro file or folder." };
        var queries = new Option<int>("--queries") { Description = "Questions to send.", DefaultValueFactory = _ => 40 };
        var rate = new Option<double>("--rate") { Description = "Questions sent per second.", DefaultValueFactory = _ => 4 };
        var timeout = new Option<double>("--query-timeout") { Description = "Seconds each question may take before it counts as failed.", DefaultValueFactory = _ => 30 };
        var marks = new Option<string>("--marks") { Description = "The file the lab script writes \"fault unix-seconds\" lines to.", Required = true };
        var expect = new Option<int>("--expect-silos") { Description = "Active silos the mesh should hold once it has recovered.", Required = true };
        var readyFile = new Option<string?>("--ready-file") { Description = "A file to create once the load starts sending (the script injects its fault after that)." };
        var settle = new Option<double>("--settle") { Description = "Most seconds to keep watching membership after the last answer.", DefaultValueFactory = _ => 45 };
        var command = new Command("load", "Send a steady query load, watch membership, and print one JSON line: sent, answered, failed, duplicates, detect and recover seconds of the marked fault.");
        command.Options.Add(gateway);
        command.Options.Add(data);
        command.Options.Add(queries);
        command.Options.Add(rate);
        command.Options.Add(timeout);
        command.Options.Add(marks);
        command.Options.Add(expect);
        command.Options.Add(settle);
        command.Options.Add(readyFile);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var stderr = parse.InvocationConfiguration.Error;
            IReadOnlyList<RecordedQuestion> questions;
            LabLoadSettings settings;
            try
            {
                settings = LabLoadSettings.Parse(parse.GetValue(queries), parse.GetValue(rate), parse.GetValue(timeout), parse.GetValue(expect), parse.GetValue(settle), parse.GetValue(marks)!) with { ReadyPath = parse.GetValue(readyFile) };
                var dataset = EvalInputs.ReadDataset(EvalInputs.LocateDataFile(parse.GetValue(data)));
                var test = DataSplit.Default.Test(dataset).Questions.ToArray();
                new Random(7).Shuffle(test);
                questions = [.. Enumerable.Range(0, settings.Queries).Select(i => test[i % test.Length])];
            }
            catch (Exception ex) when (ex is ArgumentException or FormatException or IOException or InvalidDataException or UnauthorizedAccessException)
            {
                await stderr.WriteLineAsync($"moemesh lab load: {ex.Message}");
                return ExitCodes.Usage;
            }

            try
            {
                await using var connection = await MeshConnection.OpenAsync(parse.GetValue(gateway) ?? [], cancellationToken);
                var report = await LabLoad.RunAsync(connection.Client, questions, settings, new Progress<string>(m => stderr.WriteLine($"lab load: {m}")), cancellationToken);
                await parse.InvocationConfiguration.Output.WriteLineAsync(JsonSerializer.Serialize(report, MoeMeshJson.Compact));
                return ExitCodes.Ok;
            }
            catch (MeshUnreachableException ex)
            {
                await stderr.WriteLineAsync($"moemesh lab load: {ex.Message}");
                return ExitCodes.MeshUnreachable;
            }
            catch (FormatException ex)
            {
                await stderr.WriteLineAsync($"moemesh lab load: {ex.Message}");
                return ExitCodes.Usage;
            }
        });
        return command;
    }
}
