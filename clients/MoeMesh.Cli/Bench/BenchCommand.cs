using System.CommandLine;

namespace MoeMesh.Cli.Bench;

/// <summary><c>moemesh bench …</c>: measurements reported as ratios against a baseline run alongside.</summary>
public static class BenchCommand
{
    public static Command Create()
    {
        var bench = new Command("bench", "Run a benchmark and report its figures (use --json for scripts).");
        bench.Subcommands.Add(BenchLlamaCommand.Create());
        bench.Subcommands.Add(BenchMoeCommand.Create());
        bench.Subcommands.Add(BenchReplayCommand.Create());
        bench.Subcommands.Add(BenchHopCommand.Create());
        bench.Subcommands.Add(BenchLiveCommand.Create());
        return bench;
    }
}
