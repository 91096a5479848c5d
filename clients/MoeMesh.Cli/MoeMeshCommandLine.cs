using System.CommandLine;
using MoeMesh.Cli.Bench;

namespace MoeMesh.Cli;

/// <summary>The <c>moemesh</c> command tree.</summary>
public static class MoeMeshCommandLine
{
    /// <summary>Builds the root command with every verb.</summary>
    public static RootCommand Build()
    {
        var root = new RootCommand("MoeMesh: collaborative inference of language-model experts across a mesh of edge boxes.");
        root.Subcommands.Add(BenchCommand.Create());
        root.Subcommands.Add(Eval.EvalCommand.Create());
        return root;
    }
}
