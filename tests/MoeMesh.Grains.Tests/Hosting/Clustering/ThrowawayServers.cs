using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Npgsql;

namespace MoeMesh.Grains.Tests.Hosting.Clustering;

/// <summary>A TCP port nothing listens on right now.</summary>
internal static class FreePort
{
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>Runs a command to completion, failing with its output when it fails.</summary>
internal static class Command
{
    public static async Task<string> RunAsync(string fileName, IEnumerable<string> arguments, TimeSpan timeout)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {fileName}.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{Describe(info)} did not finish within {timeout.TotalSeconds:0} s.");
        }

        var text = (await output) + (await error);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{Describe(info)} failed with exit code {process.ExitCode}:{Environment.NewLine}{text}");
        }

        return text;
    }

    private static string Describe(ProcessStartInfo info) => $"'{info.FileName} {string.Join(' ', info.ArgumentList)}'";
}

/// <summary>
/// A PostgreSQL server of its own for a test class: a fresh cluster (initdb) in a temporary folder,
/// trusting local connections, on a free port; stopped and deleted afterwards. Uses the Debian
/// package's binaries; as root it runs them as the <c>postgres</c> user, because PostgreSQL
/// refuses to run as root.
/// </summary>
public sealed class PostgresServer : IAsyncLifetime
{
    private const string BinariesRoot = "/usr/lib/postgresql";
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(60);

    private string _bin = "";
    private string _folder = "";
    private bool _started;

    public int Port { get; private set; }

    /// <summary>The <c>postgres</c> database as the <c>postgres</c> superuser.</summary>
    public string ConnectionString => ConnectionStringFor("postgres");

    private static bool IsRoot => Environment.UserName == "root";

    private string DataFolder => Path.Combine(_folder, "data");

    public string ConnectionStringFor(string database)
        => new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1",
            Port = Port,
            Username = "postgres",
            Database = database,
            Timeout = 10,
        }.ConnectionString;

    /// <summary>Creates an empty database and returns a connection string to it.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        var name = "t_" + Guid.NewGuid().ToString("N")[..12];
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"CREATE DATABASE {name}", connection);
        await command.ExecuteNonQueryAsync();
        return ConnectionStringFor(name);
    }

    public async Task InitializeAsync()
    {
        _bin = FindBinaries();
        _folder = Directory.CreateTempSubdirectory("moemesh-pg-").FullName;
        if (IsRoot)
        {
            await Command.RunAsync("chown", ["postgres:postgres", _folder], CommandTimeout);
        }

        await RunAsync("initdb", ["-D", DataFolder, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale", "--no-sync"]);

        // A port can be taken between choosing and binding it; one more try covers that.
        for (var attempt = 1; ; attempt++)
        {
            Port = FreePort.Next();
            var options = string.Join(' ',
                $"-p {Port.ToString(CultureInfo.InvariantCulture)}",
                "-c listen_addresses=127.0.0.1",
                $"-c unix_socket_directories={_folder}",
                "-c fsync=off",
                "-c synchronous_commit=off",
                "-c full_page_writes=off",
                "-c max_connections=200");
            try
            {
                await RunAsync("pg_ctl", ["-D", DataFolder, "-l", Path.Combine(_folder, "server.log"), "-o", options, "-w", "-t", "30", "start"]);
                _started = true;
                return;
            }
            catch (InvalidOperationException) when (attempt < 2)
            {
            }
        }
    }

    public async Task DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        try
        {
            if (_started)
            {
                await RunAsync("pg_ctl", ["-D", DataFolder, "-m", "immediate", "-w", "stop"]);
            }
        }
        finally
        {
            if (_folder.Length > 0)
            {
                Directory.Delete(_folder, recursive: true);
            }
        }
    }

    private static string FindBinaries()
    {
        var bin = Directory.Exists(BinariesRoot)
            ? Directory.GetDirectories(BinariesRoot)
                .Select(d => (Path: Path.Combine(d, "bin"), Version: double.TryParse(Path.GetFileName(d), NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : 0))
                .Where(d => File.Exists(Path.Combine(d.Path, "initdb")) && File.Exists(Path.Combine(d.Path, "pg_ctl")))
                .OrderByDescending(d => d.Version)
                .Select(d => d.Path)
                .FirstOrDefault()
            : null;
        return bin ?? throw new InvalidOperationException(
            $"These tests start their own PostgreSQL server, but no server binaries (initdb, pg_ctl) were found under {BinariesRoot}/<version>/bin. " +
            "Install the Debian package 'postgresql' (apt-get install -y postgresql).");
    }

    private Task<string> RunAsync(string tool, string[] arguments)
    {
        var path = Path.Combine(_bin, tool);
        return IsRoot
            ? Command.RunAsync("runuser", ["-u", "postgres", "--", path, .. arguments], CommandTimeout)
            : Command.RunAsync(path, arguments, CommandTimeout);
    }
}

/// <summary>
/// A Redis server of its own for a test class: <c>redis-server</c> on a free port, without
/// persistence, working in a temporary folder; killed and deleted afterwards.
/// </summary>
public sealed class RedisServer : IAsyncLifetime
{
    private Process? _process;
    private string _folder = "";

    public int Port { get; private set; }

    public string ConnectionString => $"127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}";

    public async Task InitializeAsync()
    {
        var binary = FindBinary();
        _folder = Directory.CreateTempSubdirectory("moemesh-redis-").FullName;
        for (var attempt = 1; ; attempt++)
        {
            Port = FreePort.Next();
            var info = new ProcessStartInfo(binary)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
                WorkingDirectory = _folder,
            };
            foreach (var argument in new[]
            {
                "--port", Port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", _folder, "--logfile", Path.Combine(_folder, "redis.log"),
            })
            {
                info.ArgumentList.Add(argument);
            }

            _process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {binary}.");
            _process.OutputDataReceived += (_, _) => { };
            _process.ErrorDataReceived += (_, _) => { };
            _process.BeginOutputReadLine();
            _process.BeginErrorReadLine();
            if (await WaitUntilAnsweringAsync(TimeSpan.FromSeconds(15)))
            {
                return;
            }

            var log = ReadLog();
            Stop();
            if (attempt >= 2)
            {
                throw new InvalidOperationException($"redis-server did not start on port {Port}:{Environment.NewLine}{log}");
            }
        }
    }

    public Task DisposeAsync()
    {
        Stop();
        if (_folder.Length > 0)
        {
            Directory.Delete(_folder, recursive: true);
        }

        return Task.CompletedTask;
    }

    private static string FindBinary()
    {
        var candidates = (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Append("/usr/bin")
            .Append("/usr/sbin")
            .Select(d => Path.Combine(d, "redis-server"));
        return candidates.FirstOrDefault(File.Exists) ?? throw new InvalidOperationException(
            "These tests start their own Redis server, but 'redis-server' was not found on the PATH or in /usr/bin. " +
            "Install the Debian package 'redis-server' (apt-get install -y redis-server).");
    }

    private async Task<bool> WaitUntilAnsweringAsync(TimeSpan limit)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < limit && _process is { HasExited: false })
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, Port);
                var stream = client.GetStream();
                await stream.WriteAsync("PING\r\n"u8.ToArray());
                var buffer = new byte[16];
                var read = await stream.ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(2));
                if (Encoding.ASCII.GetString(buffer, 0, read).StartsWith("+PONG", StringComparison.Ordinal))
                {
                    return true;
                }
            }
            catch (Exception ex) when (ex is SocketException or IOException or TimeoutException)
            {
            }

            await Task.Delay(50);
        }

        return false;
    }

    private string ReadLog()
    {
        var path = Path.Combine(_folder, "redis.log");
        return File.Exists(path) ? File.ReadAllText(path) : "(no log)";
    }

    private void Stop()
    {
        if (_process is { } process)
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(5000);
            }

            process.Dispose();
            _process = null;
        }
    }
}
