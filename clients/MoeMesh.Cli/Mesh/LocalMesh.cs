using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using MoeMesh.Cli.Common;

namespace MoeMesh.Cli.Mesh;

/// <summary>One silo of a local mesh: its device profile, ports and any extra settings.</summary>
public sealed record LocalSiloSpec(string Profile, int SiloPort, int GatewayPort)
{
    /// <summary>Settings for this silo only ("--Key=Value").</summary>
    public IReadOnlyList<string> Settings { get; init; } = [];
}

/// <summary>
/// A mesh of silo processes on this machine (localhost clustering; the first silo is the primary).
/// Each silo's output goes to a log file under the MoeMesh home folder.
/// </summary>
public sealed class LocalMesh : IAsyncDisposable
{
    private readonly List<(LocalSiloSpec Spec, Process Process, string Log)> _silos = [];
    private readonly TextWriter _progress;
    private readonly TimeProvider _time;

    private LocalMesh(TextWriter progress, TimeProvider time)
    {
        _progress = progress;
        _time = time;
    }

    public IReadOnlyList<string> Gateways => _silos.Select(s => $"127.0.0.1:{s.Spec.GatewayPort}").ToList();

    public IReadOnlyList<int> ProcessIds => _silos.Select(s => s.Process.Id).ToList();

    public IReadOnlyList<(LocalSiloSpec Spec, Process Process, string Log)> Silos => _silos;

    /// <summary>The silos for <paramref name="profiles"/>, on consecutive ports from the given bases.</summary>
    public static IReadOnlyList<LocalSiloSpec> Plan(IReadOnlyList<string> profiles, int baseSiloPort, int baseGatewayPort)
        => profiles.Select((p, i) => new LocalSiloSpec(p, baseSiloPort + i, baseGatewayPort + i)).ToList();

    /// <summary>Starts the silos (primary first) and waits until every gateway accepts connections.</summary>
    public static async Task<LocalMesh> StartAsync(
        IReadOnlyList<LocalSiloSpec> silos,
        IReadOnlyList<string> manifestFolders,
        IReadOnlyList<string> extraArguments,
        TextWriter progress,
        CancellationToken cancellationToken,
        TimeProvider? time = null)
    {
        if (silos.Count == 0)
        {
            throw new ArgumentException("A mesh needs at least one silo.", nameof(silos));
        }

        foreach (var port in silos.SelectMany(s => new[] { s.SiloPort, s.GatewayPort }))
        {
            if (await IsListeningAsync(port, cancellationToken))
            {
                throw new InvalidOperationException(
                    $"Port {port} is already in use (is a mesh already running? `moemesh status` tells). Choose other ports with --silo-port/--gateway-port.");
            }
        }

        var mesh = new LocalMesh(progress, time ?? TimeProvider.System);
        try
        {
            var primaryPort = silos[0].SiloPort;
            foreach (var spec in silos)
            {
                mesh.Start(spec, primaryPort, manifestFolders, extraArguments);
                await mesh.WaitForGatewayAsync(spec, TimeSpan.FromSeconds(90), cancellationToken);
            }

            return mesh;
        }
        catch
        {
            await mesh.DisposeAsync();
            throw;
        }
    }

    /// <summary>Silos whose process has exited, with their exit codes and logs.</summary>
    public IEnumerable<(LocalSiloSpec Spec, int ExitCode, string Log)> Exited()
        => _silos.Where(s => s.Process.HasExited).Select(s => (s.Spec, s.Process.ExitCode, s.Log));

    public async ValueTask DisposeAsync()
    {
        foreach (var (_, process, _) in _silos)
        {
            try
            {
                ProcessSignals.RequestStop(process);
            }
            catch (InvalidOperationException)
            {
            }
        }

        foreach (var (spec, process, _) in _silos)
        {
            using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            try
            {
                await process.WaitForExitAsync(wait.Token);
            }
            catch (OperationCanceledException)
            {
                _progress.WriteLine($"silo {spec.Profile} did not stop in time; killing it");
                process.Kill(entireProcessTree: true);
            }

            process.Dispose();
        }

        _silos.Clear();
    }

    private void Start(LocalSiloSpec spec, int primaryPort, IReadOnlyList<string> manifestFolders, IReadOnlyList<string> extraArguments)
    {
        var logFolder = Path.Combine(LocalMeshState.Home, "logs");
        Directory.CreateDirectory(logFolder);
        var log = Path.Combine(logFolder, $"silo-{spec.SiloPort}.log");
        var (fileName, prefix) = SiloExecutable();
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        foreach (var argument in prefix)
        {
            info.ArgumentList.Add(argument);
        }

        var c = CultureInfo.InvariantCulture;
        info.ArgumentList.Add($"--MoeMesh:Device:Profile={spec.Profile}");
        info.ArgumentList.Add($"--MoeMesh:Endpoints:SiloPort={spec.SiloPort.ToString(c)}");
        info.ArgumentList.Add($"--MoeMesh:Endpoints:GatewayPort={spec.GatewayPort.ToString(c)}");
        info.ArgumentList.Add($"--MoeMesh:Endpoints:PrimarySiloPort={primaryPort.ToString(c)}");
        for (var i = 0; i < manifestFolders.Count; i++)
        {
            info.ArgumentList.Add($"--MoeMesh:Experts:Manifests:{i.ToString(c)}={manifestFolders[i]}");
        }

        foreach (var argument in extraArguments.Concat(spec.Settings))
        {
            info.ArgumentList.Add(argument);
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {fileName}.");
        var writer = new StreamWriter(log, append: false) { AutoFlush = true };
        var sync = TextWriter.Synchronized(writer);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) sync.WriteLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) sync.WriteLine(e.Data); };
        process.Exited += (_, _) => sync.Flush();
        process.EnableRaisingEvents = true;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _silos.Add((spec, process, log));
        _progress.WriteLine($"started silo {spec.Profile} (pid {process.Id}, silo port {spec.SiloPort}, gateway {spec.GatewayPort}); log: {log}");
    }

    private async Task WaitForGatewayAsync(LocalSiloSpec spec, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var entry = _silos.Single(s => s.Spec == spec);
        var started = _time.GetTimestamp();
        while (!await IsListeningAsync(spec.GatewayPort, cancellationToken))
        {
            if (entry.Process.HasExited)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(200), _time, cancellationToken);
                throw new InvalidOperationException(
                    $"Silo {spec.Profile} exited with code {entry.Process.ExitCode} while starting:{Environment.NewLine}{Tail(entry.Log, 15)}");
            }

            if (_time.GetElapsedTime(started) > timeout)
            {
                throw new TimeoutException($"Silo {spec.Profile} did not open its gateway port {spec.GatewayPort} within {timeout.TotalSeconds:0} s; see {entry.Log}.");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200), _time, cancellationToken);
        }
    }

    internal static string Tail(string path, int lines)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var reader = new StreamReader(stream);
            var all = reader.ReadToEnd().Split('\n');
            return string.Join('\n', all.TakeLast(lines));
        }
        catch (IOException)
        {
            return "(log unavailable)";
        }
    }

    private static async Task<bool> IsListeningAsync(int port, CancellationToken cancellationToken)
    {
        using var client = new TcpClient();
        try
        {
            using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            // A free loopback port refuses at once; the wait only bounds a listener that is slow to
            // answer on a busy machine, which must still count as in use.
            attempt.CancelAfter(TimeSpan.FromSeconds(3));
            await client.ConnectAsync("127.0.0.1", port, attempt.Token);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>The silo program: its native launcher beside this tool, or the dotnet host running its assembly.</summary>
    private static (string FileName, string[] Prefix) SiloExecutable()
    {
        var folder = AppContext.BaseDirectory;
        var dll = Path.Combine(folder, "MoeMesh.Silo.dll");
        if (!File.Exists(dll))
        {
            throw new FileNotFoundException($"The silo program is missing next to moemesh ({dll}); rebuild the CLI.", dll);
        }

        var launcher = Path.Combine(folder, OperatingSystem.IsWindows() ? "MoeMesh.Silo.exe" : "MoeMesh.Silo");
        if (File.Exists(launcher))
        {
            return (launcher, []);
        }

        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH")
            ?? (Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet" ? Environment.ProcessPath : null)
            ?? "dotnet";
        return (dotnet, [dll]);
    }
}
