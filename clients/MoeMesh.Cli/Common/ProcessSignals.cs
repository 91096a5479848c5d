using System.Diagnostics;
using System.Runtime.InteropServices;

namespace MoeMesh.Cli.Common;

/// <summary>Asks a child process to stop gracefully (SIGTERM on Unix), so a silo leaves the mesh cleanly.</summary>
internal static partial class ProcessSignals
{
    private const int SigTerm = 15;

    public static void RequestStop(Process process)
    {
        if (process.HasExited)
        {
            return;
        }

        if (OperatingSystem.IsWindows())
        {
            process.Kill(entireProcessTree: true);
            return;
        }

        _ = Kill(process.Id, SigTerm);
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
