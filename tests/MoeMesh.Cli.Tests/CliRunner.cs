using System.CommandLine;

namespace MoeMesh.Cli.Tests;

/// <summary>Runs <c>moemesh</c> verbs in-process with captured output.</summary>
internal static class CliRunner
{
    public static async Task<(int ExitCode, string Output, string Error)> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await MoeMeshCommandLine.Build().Parse(args).InvokeAsync(new InvocationConfiguration { Output = output, Error = error });
        return (code, output.ToString(), error.ToString());
    }
}

/// <summary>
/// Points MoeMesh's home folder (demo experts, logs, mesh state) at a temporary folder for the
/// tests that share it; they run one at a time.
/// </summary>
public sealed class MoeMeshHomeFixture : IDisposable
{
    public MoeMeshHomeFixture()
    {
        Home = Directory.CreateTempSubdirectory("moemesh-home-").FullName;
        Environment.SetEnvironmentVariable("MOEMESH_HOME", Home);
    }

    public string Home { get; }

    public void Dispose()
    {
        Environment.SetEnvironmentVariable("MOEMESH_HOME", null);
        try
        {
            Directory.Delete(Home, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MoeMeshHomeCollection : ICollectionFixture<MoeMeshHomeFixture>
{
    public const string Name = "moemesh home";
}
