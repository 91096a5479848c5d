using System.Runtime.InteropServices;
using LLama.Exceptions;
using LLama.Native;
using Microsoft.Extensions.Logging;

namespace MoeMesh.Inference.Llama.Runtime;

/// <summary>What <see cref="LlamaRuntime.EnsureInitialized"/> loaded.</summary>
/// <param name="LibraryPath">Full path of the libllama LLamaSharp loaded (the benchmark's C harness links this very file).</param>
/// <param name="Source">How it was chosen: the environment variable, the setting, or the backend package.</param>
/// <param name="Version">The llama.cpp build and the binding, such as "c0c7e147 (LLamaSharp 0.30.0)".</param>
/// <param name="Devices">The ggml compute devices found (for example "CPU", "CUDA0").</param>
/// <param name="SupportsGpuOffload">True when the library can place layers on a GPU.</param>
public sealed record LlamaRuntimeInfo(string LibraryPath, string Source, string Version, IReadOnlyList<string> Devices, bool SupportsGpuOffload)
{
    /// <summary>The folder holding libllama and its libggml libraries.</summary>
    public string LibraryDirectory => Path.GetDirectoryName(LibraryPath) ?? ".";
}

/// <summary>
/// Process-wide start of llama.cpp through LLamaSharp: applies the library choice to
/// <see cref="NativeLibraryConfig"/>, loads the library, checks its parameter structs have the
/// layout LLamaSharp expects, and routes llama.cpp's log to an <see cref="ILogger"/>. A process
/// loads one llama.cpp build, so this state is process-wide by nature; it is set once.
/// </summary>
public static class LlamaRuntime
{
    private static readonly Lock Gate = new();
    private static LlamaRuntimeInfo? _info;
    private static LlamaLibraryException? _failure;

    /// <summary>The loaded runtime, or null before a successful <see cref="EnsureInitialized"/>.</summary>
    public static LlamaRuntimeInfo? Info => _info;

    /// <summary>
    /// Loads and checks llama.cpp once per process. <paramref name="libraryPath"/> (a libllama file
    /// or its folder) is used only when <see cref="LlamaBuild.LibraryPathVariable"/> is not set.
    /// Throws <see cref="LlamaLibraryException"/> naming what was expected when the library is
    /// missing, does not load, or is another version; the same error is reported on every later call.
    /// </summary>
    public static LlamaRuntimeInfo EnsureInitialized(string? libraryPath = null, ILogger? nativeLogger = null)
    {
        if (nativeLogger is not null)
        {
            LlamaNativeLog.Use(nativeLogger);
        }

        lock (Gate)
        {
            if (_info is not null)
            {
                return _info;
            }

            if (_failure is not null)
            {
                throw _failure;
            }

            try
            {
                _info = Initialize(LlamaLibrarySelection.Choose(libraryPath));
                return _info;
            }
            catch (LlamaLibraryException e)
            {
                _failure = e;
                throw;
            }
        }
    }

    private static LlamaRuntimeInfo Initialize(LlamaLibraryChoice choice)
    {
        if (!NativeLibraryConfig.LLama.LibraryHasLoaded)
        {
            if (choice.LlamaPath is not null)
            {
                NativeLibraryConfig.All.WithLibrary(choice.LlamaPath, choice.MtmdPath);
            }

            NativeLibraryConfig.All.WithLogCallback(LlamaNativeLog.OnMessage);
        }

        try
        {
            NativeApi.llama_empty_call();
        }
        catch (Exception e) when (e is RuntimeError or TypeInitializationException or DllNotFoundException or EntryPointNotFoundException or BadImageFormatException)
        {
            var reason = (e as TypeInitializationException)?.InnerException?.Message ?? e.Message;
            throw new LlamaLibraryException(
                $"LLamaSharp could not load llama.cpp from {choice.LlamaPath ?? choice.Source}: {FirstLine(reason)} " +
                $"Expected {LlamaBuild.ExpectedBuild}: restore the solution so LLamaSharp.Backend.Cpu provides it, or set " +
                $"{LlamaBuild.LibraryPathVariable} to a libllama of that commit.{LlamaNativeLog.RecentErrorSummary()}",
                e);
        }

        NativeLogConfig.llama_log_set(LlamaNativeLog.OnMessage);
        var loaded = LoadedLibraryPath() ?? choice.LlamaPath
            ?? throw new LlamaLibraryException("LLamaSharp reports llama.cpp as loaded, but no libllama is mapped into the process.");
        if (choice.LlamaPath is not null && !SameFile(loaded, choice.LlamaPath))
        {
            throw new LlamaLibraryException(
                $"{choice.Source} names {choice.LlamaPath}, but LLamaSharp had already loaded {loaded} before the engine started; " +
                $"set {LlamaBuild.LibraryPathVariable} before the process starts.");
        }

        CheckStructDefaults(loaded, choice.Source);
        var devices = new List<string>();
        var count = (int)NativeApi.ggml_backend_dev_count();
        for (var i = 0; i < count; i++)
        {
            var device = NativeApi.ggml_backend_dev_get((nuint)i);
            devices.Add(device == 0 ? "?" : Marshal.PtrToStringUTF8(NativeApi.ggml_backend_dev_name(device)) ?? "?");
        }

        if (devices.Count == 0)
        {
            throw new LlamaLibraryException(
                $"llama.cpp loaded from {loaded} ({choice.Source}) found no compute device; the folder should hold libggml-cpu " +
                $"(or a GPU backend) of {LlamaBuild.ExpectedBuild}.");
        }

        return new LlamaRuntimeInfo(
            loaded, choice.Source, $"{LlamaBuild.LlamaCppShortCommit} (LLamaSharp {LlamaBuild.LLamaSharpVersion})", devices,
            NativeApi.llama_supports_gpu_offload());
    }

    /// <summary>
    /// Reads the defaults llama.cpp fills into its parameter structs; a library built from other
    /// headers shows different values at these offsets, which would corrupt every call.
    /// </summary>
    private static void CheckStructDefaults(string path, string source)
    {
        var problems = LayoutProblems(LLamaContextParams.Default(), LLamaModelParams.Default());
        if (problems.Count > 0)
        {
            throw new LlamaLibraryException(
                $"The llama.cpp library {path} ({source}) reports unexpected defaults for {string.Join(", ", problems)}: its structs do not " +
                $"have the layout of {LlamaBuild.ExpectedBuild}. Point {LlamaBuild.LibraryPathVariable} at a build of commit {LlamaBuild.LlamaCppCommit}.");
        }
    }

    /// <summary>The fields of the default parameter structs that do not read back as this llama.cpp build fills them.</summary>
    internal static IReadOnlyList<string> LayoutProblems(LLamaContextParams context, LLamaModelParams model)
    {
        var problems = new List<string>();
        Expect(context.n_batch == 2048, "llama_context_params.n_batch");
        Expect(context.n_ubatch == 512, "llama_context_params.n_ubatch");
        Expect(context.n_seq_max == 1, "llama_context_params.n_seq_max");
        Expect(context.samplers == 0 && context.n_samplers == 0, "llama_context_params.samplers");
        Expect(model.n_gpu_layers == -1, "llama_model_params.n_gpu_layers");
        Expect(!model.vocab_only && model.use_extra_bufts, "llama_model_params.vocab_only/use_extra_bufts");
        return problems;

        void Expect(bool condition, string field)
        {
            if (!condition)
            {
                problems.Add(field);
            }
        }
    }

    /// <summary>The libllama mapped into this process (Linux: from /proc/self/maps), or null.</summary>
    private static string? LoadedLibraryPath()
    {
        const string maps = "/proc/self/maps";
        if (OperatingSystem.IsLinux() && File.Exists(maps))
        {
            foreach (var line in File.ReadLines(maps))
            {
                var slash = line.IndexOf('/', StringComparison.Ordinal);
                if (slash >= 0 && Path.GetFileName(line.AsSpan(slash)).StartsWith("libllama.", StringComparison.Ordinal))
                {
                    return line[slash..].Trim();
                }
            }

            return null;
        }

        var relative = NativeApi.GetLoadedNativeLibrary(NativeLibraryName.LLama)?.Prepare(SystemInfo.Get()).FirstOrDefault();
        return relative is null ? null : Path.GetFullPath(relative, AppContext.BaseDirectory);
    }

    private static bool SameFile(string a, string b) =>
        string.Equals(Path.GetFullPath(a), Path.GetFullPath(b), OperatingSystem.IsWindows() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal)
        || (File.ResolveLinkTarget(b, returnFinalTarget: true)?.FullName is { } target && string.Equals(Path.GetFullPath(a), target, StringComparison.Ordinal));

    private static string FirstLine(string text)
    {
        var end = text.IndexOf('\n', StringComparison.Ordinal);
        return (end < 0 ? text : text[..end]).Trim();
    }
}
