using System.CommandLine;

namespace MoeMesh.Cli.Models;

/// <summary><c>moemesh models …</c>: make, inspect and run GGUF expert models.</summary>
public static class ModelsCommand
{
    public static Command Create() => new("models", "Make, inspect and run GGUF expert models (llama.cpp engine).")
    {
        ModelsSynthCommand.Create(),
        ModelsInspectCommand.Create(),
        ModelsRunCommand.Create(),
    };
}
