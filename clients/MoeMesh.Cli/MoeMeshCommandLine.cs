using System.CommandLine;
using MoeMesh.Cli.Bench;
using MoeMesh.Cli.Mesh;

namespace MoeMesh.Cli;

/// <summary>The <c>moemesh</c> command tree.</summary>
public static class MoeMeshCommandLine
{
    /// <summary>Builds the root command with every verb.</summary>
    public static RootCommand Build()
    {
        var root = new RootCommand("MoeMesh: collaborative inference of language-model experts across a mesh of edge boxes.");
        root.Subcommands.Add(DemoCommand.Create());
        root.Subcommands.Add(UpCommand.Create());
        root.Subcommands.Add(AskCommand.Create());
        root.Subcommands.Add(StatusCommand.Create());
        root.Subcommands.Add(Models.ModelsCommand.Create());
        root.Subcommands.Add(Eval.EvalCommand.Create());
        root.Subcommands.Add(BenchCommand.Create());
        root.Subcommands.Add(Dashboard.DashboardCommand.Create());
        root.Subcommands.Add(Certs.CertsCommand.Create());
        root.Subcommands.Add(Lab.LabCommand.Create());
        return root;
    }
}
