using System.CommandLine;

namespace MoeMesh.Cli.Models;

/// <summary><c>moemesh models …</c>: pull, make, inspect, run and manage GGUF expert models.</summary>
public static class ModelsCommand
{
    public static Command Create() => new("models", "Get, make, inspect, run and manage GGUF expert models (llama.cpp engine).")
    {
        ModelsPullCommand.Create(),
        ModelsListCommand.Create(),
        ModelsRmCommand.Create(),
        ModelsSynthCommand.Create(),
        ModelsInspectCommand.Create(),
        ModelsRunCommand.Create(),
    };
}
