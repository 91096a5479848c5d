using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using MoeMesh.Grains.Hosting;

namespace MoeMesh.Silo;

/// <summary>
/// The edge-box executable: configuration in (appsettings.json, MOEMESH_/DOTNET_ environment
/// variables, command line), a MoeMesh silo out.
/// </summary>
public static class SiloProgram
{
    public static async Task<int> RunAsync(string[] args)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            Args = args,
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Configuration.AddEnvironmentVariables(prefix: "MOEMESH_");
        builder.Configuration.AddCommandLine(args);
        try
        {
            builder.AddMoeMeshSilo();
        }
        catch (MoeMeshConfigurationException ex)
        {
            await Console.Error.WriteLineAsync($"moemesh-silo: {ex.Message}");
            return 2;
        }

        using var host = builder.Build();
        await host.RunAsync();
        return 0;
    }
}
