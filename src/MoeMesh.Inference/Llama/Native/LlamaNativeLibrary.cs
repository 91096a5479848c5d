using System.Reflection;
using System.Runtime.InteropServices;

namespace MoeMesh.Inference.Llama.Native;

/// <summary>Where the llama.cpp libraries were loaded from.</summary>
/// <param name="Directory">The folder holding libllama and libggml (and the ggml backend modules).</param>
/// <param name="LlamaPath">Full path of the libllama that was loaded.</param>
/// <param name="GgmlPath">Full path of the libggml that was loaded.</param>
/// <param name="Source">How the folder was found: the environment variable, the options, the application folder, or the repository.</param>
public sealed record LlamaLibraryLocation(string Directory, string LlamaPath, string GgmlPath, string Source);

/// <summary>
/// Finds and loads libllama/libggml and routes the binding's <c>LibraryImport</c>s to them through
/// <see cref="NativeLibrary.SetDllImportResolver"/>. A process loads one llama.cpp build, so this
/// state is process-wide by nature; it is set once under a lock and never changes afterwards.
/// </summary>
internal static class LlamaNativeLibrary
{
    private static readonly Lock Gate = new();
    private static LlamaLibraryLocation? location;
    private static nint llamaHandle;
    private static nint ggmlHandle;
    private static bool resolverInstalled;

    /// <summary>The runtime identifier whose prebuilt libraries the build fetches, or null on other platforms.</summary>
    public static string? CurrentRid
    {
        get
        {
            var arch = RuntimeInformation.OSArchitecture switch
            {
                Architecture.X64 => "x64",
                Architecture.Arm64 => "arm64",
                _ => null,
            };
            if (arch is null)
            {
                return null;
            }

            if (OperatingSystem.IsLinux())
            {
                return "linux-" + arch;
            }

            if (OperatingSystem.IsWindows())
            {
                return "win-" + arch;
            }

            return OperatingSystem.IsMacOS() ? "osx-" + arch : null;
        }
    }

    /// <summary>File names tried for libllama, most specific first.</summary>
    public static IReadOnlyList<string> LlamaFileNames { get; } =
        [$"libllama.{LlamaPinnedVersion.Release}.so", "libllama.so", "libllama.dylib", "llama.dll"];

    /// <summary>File names tried for libggml, most specific first.</summary>
    public static IReadOnlyList<string> GgmlFileNames { get; } =
        [$"libggml.{LlamaPinnedVersion.Release}.so", "libggml.so", "libggml.dylib", "ggml.dll"];

    /// <summary>The loaded location, or null before <see cref="Load"/> succeeded.</summary>
    public static LlamaLibraryLocation? Location => location;

    /// <summary>
    /// The folders searched, in order: <c>MOEMESH_LLAMA_LIB_DIR</c> (alone, when set), then
    /// <paramref name="configuredDirectory"/> (alone, when set), then <c>&lt;app&gt;/llama/&lt;rid&gt;</c>,
    /// then <c>.native/llama.cpp-v0.5.0/&lt;rid&gt;</c> in the repository holding the application or the
    /// current directory.
    /// </summary>
    public static IReadOnlyList<(string Directory, string Source)> CandidateDirectories(string? configuredDirectory) =>
        CandidateDirectories(Environment.GetEnvironmentVariable(LlamaPinnedVersion.LibraryDirectoryVariable), configuredDirectory);

    /// <summary>The search order for a given value of <c>MOEMESH_LLAMA_LIB_DIR</c> (see the other overload).</summary>
    public static IReadOnlyList<(string Directory, string Source)> CandidateDirectories(string? fromEnvironment, string? configuredDirectory)
    {
        if (!string.IsNullOrWhiteSpace(fromEnvironment))
        {
            // An explicit choice is never silently replaced by the bundled CPU build.
            return [(Path.GetFullPath(fromEnvironment), LlamaPinnedVersion.LibraryDirectoryVariable)];
        }

        if (!string.IsNullOrWhiteSpace(configuredDirectory))
        {
            return [(Path.GetFullPath(configuredDirectory), "LlamaEngineOptions.NativeLibraryDirectory")];
        }

        var candidates = new List<(string, string)>();
        var rid = CurrentRid ?? "unknown";
        candidates.Add((Path.Combine(AppContext.BaseDirectory, LlamaPinnedVersion.ApplicationFolder, rid), "application folder"));
        foreach (var start in new[] { AppContext.BaseDirectory, Environment.CurrentDirectory })
        {
            var repositoryFolder = FindRepositoryNativeFolder(start, rid);
            if (repositoryFolder is not null && !candidates.Any(c => c.Item1 == repositoryFolder))
            {
                candidates.Add((repositoryFolder, "repository .native folder"));
            }
        }

        return candidates;
    }

    /// <summary>The repository's <c>.native/llama.cpp-v0.5.0</c> folder above <paramref name="start"/>, or null.</summary>
    public static string? FindRepositoryNativeRoot(string start)
    {
        for (var directory = new DirectoryInfo(start); directory is not null; directory = directory.Parent)
        {
            var candidate = Path.Combine(directory.FullName, LlamaPinnedVersion.RepositoryNativeFolder);
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>Loads the libraries once and installs the import resolver; later calls return the first result.</summary>
    public static LlamaLibraryLocation Load(string? configuredDirectory)
    {
        lock (Gate)
        {
            if (location is not null)
            {
                return location;
            }

            var (directory, llamaPath, ggmlPath, source) = Locate(CandidateDirectories(configuredDirectory));
            nint llama;
            nint ggml;
            try
            {
                // libllama finds its own libggml through its RUNPATH ($ORIGIN), so loading it
                // first and then the same libggml by full path gives one copy of each.
                llama = NativeLibrary.Load(llamaPath);
                ggml = NativeLibrary.Load(ggmlPath);
            }
            catch (Exception e) when (e is DllNotFoundException or BadImageFormatException)
            {
                throw new LlamaLibraryException(
                    $"llama.cpp was found in {directory} ({source}) but could not be loaded: {e.Message}. " +
                    $"Check that the folder holds a complete build for this machine ({CurrentRid}) with its dependencies, " +
                    $"or set {LlamaPinnedVersion.LibraryDirectoryVariable} to another build of llama.cpp {LlamaPinnedVersion.Release}.",
                    e);
            }

            llamaHandle = llama;
            ggmlHandle = ggml;
            InstallResolver();
            location = new LlamaLibraryLocation(directory, llamaPath, ggmlPath, source);
            return location;
        }
    }

    /// <summary>
    /// The first of <paramref name="candidates"/> holding both libllama and libggml; throws
    /// <see cref="LlamaLibraryException"/> naming every folder tried and what to do.
    /// </summary>
    public static LlamaLibraryLocation Locate(IReadOnlyList<(string Directory, string Source)> candidates)
    {
        var tried = new List<string>();
        foreach (var (directory, source) in candidates)
        {
            var llamaPath = FirstExisting(directory, LlamaFileNames);
            var ggmlPath = FirstExisting(directory, GgmlFileNames);
            if (llamaPath is not null && ggmlPath is not null)
            {
                return new LlamaLibraryLocation(directory, llamaPath, ggmlPath, source);
            }

            tried.Add($"{directory} ({source}: {(Directory.Exists(directory) ? "no libllama/libggml there" : "no such folder")})");
        }

        var rid = CurrentRid ?? "this platform";
        throw new LlamaLibraryException(
            $"The llama.cpp {LlamaPinnedVersion.Release} libraries were not found. Tried: {string.Join("; ", tried)}. " +
            $"Build the solution (it fetches {LlamaPinnedVersion.PackageFor(rid)} with npm into {LlamaPinnedVersion.RepositoryNativeFolder}/{rid} " +
            $"and copies it next to the application), or set {LlamaPinnedVersion.LibraryDirectoryVariable} to a folder holding " +
            $"libllama and libggml of llama.cpp {LlamaPinnedVersion.Release}.");
    }

    /// <summary>The export <paramref name="name"/> of libllama or libggml, or zero.</summary>
    public static nint GetExport(string library, string name)
    {
        var handle = library == LlamaNative.LlamaLibrary ? llamaHandle : ggmlHandle;
        return handle != 0 && NativeLibrary.TryGetExport(handle, name, out var address) ? address : 0;
    }

    private static string? FindRepositoryNativeFolder(string start, string rid)
    {
        var root = FindRepositoryNativeRoot(start);
        if (root is null)
        {
            return null;
        }

        var folder = Path.Combine(root, rid);
        return Directory.Exists(folder) ? folder : null;
    }

    private static string? FirstExisting(string directory, IReadOnlyList<string> names)
    {
        foreach (var name in names)
        {
            var path = Path.Combine(directory, name);
            if (File.Exists(path))
            {
                return path;
            }
        }

        return null;
    }

    private static void InstallResolver()
    {
        if (resolverInstalled)
        {
            return;
        }

        NativeLibrary.SetDllImportResolver(typeof(LlamaNative).Assembly, Resolve);
        resolverInstalled = true;
    }

    private static nint Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath) => libraryName switch
    {
        LlamaNative.LlamaLibrary => llamaHandle,
        LlamaNative.GgmlLibrary => ggmlHandle,
        _ => 0,
    };
}
