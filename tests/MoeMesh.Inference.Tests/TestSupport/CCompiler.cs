using System.Diagnostics;

namespace MoeMesh.Inference.Tests.TestSupport;

/// <summary>Compiles and runs small C programs with the system's gcc.</summary>
public static class CCompiler
{
    /// <summary>Compiles <paramref name="source"/> with <paramref name="arguments"/>, runs it, and returns its standard output.</summary>
    public static string CompileAndRun(string source, string workDirectory, params string[] arguments)
    {
        var sourcePath = Path.Combine(workDirectory, "program.c");
        var executable = Path.Combine(workDirectory, "program");
        File.WriteAllText(sourcePath, source);
        var (compileCode, _, compileErrors) = Run("gcc", [sourcePath, "-o", executable, .. arguments]);
        if (compileCode != 0)
        {
            throw new InvalidOperationException($"gcc failed ({compileCode}):\n{compileErrors}");
        }

        var (code, output, errors) = Run(executable, []);
        return code == 0 ? output : throw new InvalidOperationException($"The compiled program failed ({code}):\n{errors}");
    }

    private static (int Code, string Output, string Errors) Run(string file, string[] arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException($"{file} did not start.");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"{file} could not be started ({e.Message}); the layout test needs gcc on PATH.", e);
        }

        using (process)
        {
            var output = process.StandardOutput.ReadToEndAsync();
            var errors = process.StandardError.ReadToEndAsync();
            process.WaitForExit();
            return (process.ExitCode, output.Result, errors.Result);
        }
    }
}
