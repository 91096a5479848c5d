using System.CommandLine;
using System.Text.Json;
using MoeMesh.Catalog;
using MoeMesh.Cli.Common;

namespace MoeMesh.Cli.Mesh;

/// <summary><c>moemesh status</c>: silos, experts, replicas and placement.</summary>
public static class StatusCommand
{
    public static Command Create()
    {
        var gateway = MeshOptions.Gateway();
        var json = MeshOptions.Json();
        var command = new Command("status", "Show the mesh: silos (device, address, state), experts, replicas and where they run.");
        command.Options.Add(gateway);
        command.Options.Add(json);
        command.SetAction(async (result, cancellationToken) =>
        {
            var output = result.InvocationConfiguration.Output;
            try
            {
                await using var connection = await MeshConnection.OpenAsync(result.GetValue(gateway) ?? [], cancellationToken);
                var snapshot = await connection.Client.GetStatusAsync(cancellationToken);
                if (result.GetValue(json))
                {
                    await output.WriteLineAsync(JsonSerializer.Serialize(snapshot, CliJson.Options));
                }
                else
                {
                    Write(snapshot, output);
                    MoeShardsView.Write(await MoeShardsView.QueryAsync(connection, snapshot, cancellationToken), output);
                }

                return ExitCodes.Ok;
            }
            catch (MeshUnreachableException ex)
            {
                await result.InvocationConfiguration.Error.WriteLineAsync($"moemesh status: {ex.Message}");
                return ExitCodes.MeshUnreachable;
            }
        });
        return command;
    }

    public static void Write(CatalogSnapshot snapshot, TextWriter output)
    {
        output.WriteLine($"Silos ({snapshot.Silos.Count}):");
        var silos = new TextTable("silo", "device", "kind", "state", "model memory", "site");
        foreach (var s in snapshot.Silos)
        {
            silos.Add(s.Silo, s.Device.Name, s.Device.Kind, s.State, $"{Units.Bytes(s.ModelMemoryUsedBytes)} / {Units.Bytes(s.ModelMemoryBudgetBytes)}", s.Device.Site);
        }

        silos.WriteTo(output);
        output.WriteLine();
        output.WriteLine($"Experts ({snapshot.Experts.Count}):");
        var experts = new TextTable("expert", "engine", "params", "quant", "size", "skills", "replicas", "placement");
        foreach (var e in snapshot.Experts)
        {
            experts.Add(
                e.Id,
                e.Engine,
                e.ParameterCount >= 1_000_000_000 ? $"{e.ParameterCount / 1e9:0.#}B" : $"{e.ParameterCount / 1e6:0.#}M",
                e.Quantization,
                Units.Bytes(e.WeightBytes),
                string.Join(",", e.Skills),
                e.Replicas,
                e.Placement.DeviceKinds.Count == 0 ? "any device" : string.Join(",", e.Placement.DeviceKinds));
        }

        experts.WriteTo(output);
        output.WriteLine();
        output.WriteLine($"Replicas ({snapshot.Replicas.Count}):");
        var replicas = new TextTable("replica", "silo", "device", "state", "resident", "active", "served", "load");
        foreach (var r in snapshot.Replicas)
        {
            var device = snapshot.Silos.FirstOrDefault(s => s.Silo == r.Silo)?.Device.Name;
            replicas.Add(r.Replica.GrainKey, r.Silo, device, r.State, Units.Bytes(r.ResidentBytes), r.ActiveRequests, r.ServedRequests, Units.Ms(r.LoadMs));
        }

        replicas.WriteTo(output);
        foreach (var warning in snapshot.Warnings)
        {
            output.WriteLine($"warning: {warning}");
        }
    }
}
