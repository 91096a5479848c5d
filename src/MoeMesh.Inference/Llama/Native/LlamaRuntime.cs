using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace MoeMesh.Inference.Llama.Native;

/// <summary>What was loaded by <see cref="LlamaRuntime.EnsureInitialized"/>.</summary>
/// <param name="Location">Where libllama and libggml came from.</param>
/// <param name="Version">What <c>llama_version()</c> reports.</param>
/// <param name="Devices">The ggml compute devices found (for example "CPU", "CUDA0").</param>
/// <param name="SupportsGpuOffload">True when the build can place layers on a GPU.</param>
public sealed record LlamaRuntimeInfo(LlamaLibraryLocation Location, string Version, IReadOnlyList<string> Devices, bool SupportsGpuOffload);

/// <summary>
/// Process-wide start of llama.cpp: loads the libraries, checks they are the pinned version with
/// the struct layout the binding expects, loads the ggml backend modules (the prebuilt CPU
/// backends are separate shared objects) and routes llama.cpp's log to an <see cref="ILogger"/>.
/// </summary>
public static unsafe class LlamaRuntime
{
    private const int RecentErrorCapacity = 16;

    private static readonly Lock Gate = new();
    private static readonly ConcurrentQueue<string> RecentErrorLines = new();
    private static LlamaRuntimeInfo? info;
    private static LlamaLibraryException? failure;
    private static volatile ILogger logger = NullLogger.Instance;

    [ThreadStatic]
    private static GgmlLogLevel lastLevel;

    /// <summary>The loaded runtime, or null before a successful <see cref="EnsureInitialized"/>.</summary>
    public static LlamaRuntimeInfo? Info => info;

    /// <summary>
    /// Loads and checks llama.cpp once per process. <paramref name="libraryDirectory"/> is used only
    /// when <c>MOEMESH_LLAMA_LIB_DIR</c> is not set. Throws <see cref="LlamaLibraryException"/> with
    /// what to do when the libraries are missing, do not load, or are another version; the same
    /// error is reported on every later call.
    /// </summary>
    public static LlamaRuntimeInfo EnsureInitialized(string? libraryDirectory = null, ILogger? nativeLogger = null)
    {
        if (nativeLogger is not null)
        {
            logger = nativeLogger;
        }

        lock (Gate)
        {
            if (info is not null)
            {
                return info;
            }

            if (failure is not null)
            {
                throw failure;
            }

            try
            {
                info = Initialize(libraryDirectory);
                return info;
            }
            catch (LlamaLibraryException e)
            {
                failure = e;
                throw;
            }
        }
    }

    /// <summary>The most recent error lines llama.cpp logged, oldest first; used to explain a failed load.</summary>
    internal static IReadOnlyList<string> RecentErrors => [.. RecentErrorLines];

    /// <summary>Forgets the recorded error lines (before an operation whose errors should be reported alone).</summary>
    internal static void ClearRecentErrors() => RecentErrorLines.Clear();

    private static LlamaRuntimeInfo Initialize(string? libraryDirectory)
    {
        var location = LlamaNativeLibrary.Load(libraryDirectory);
        var wrongVersion =
            $"Point {LlamaPinnedVersion.LibraryDirectoryVariable} at a build of llama.cpp {LlamaPinnedVersion.Release} " +
            $"(the release of {LlamaPinnedVersion.PackageFor(LlamaNativeLibrary.CurrentRid ?? "linux-x64")}), or unset it to use the fetched one.";

        var missing = LlamaNative.RequiredLlamaExports.Where(name => LlamaNativeLibrary.GetExport(LlamaNative.LlamaLibrary, name) == 0)
            .Concat(LlamaNative.RequiredGgmlExports.Where(name => LlamaNativeLibrary.GetExport(LlamaNative.GgmlLibrary, name) == 0))
            .ToList();
        if (missing.Count > 0)
        {
            throw new LlamaLibraryException(
                $"The llama.cpp libraries in {location.Directory} ({location.Source}) lack {string.Join(", ", missing)}; " +
                $"they are not llama.cpp {LlamaPinnedVersion.Release}. {wrongVersion}");
        }

        var version = Marshal.PtrToStringUTF8((nint)LlamaNative.llama_version()) ?? "";
        if (!version.StartsWith(LlamaPinnedVersion.VersionPrefix, StringComparison.Ordinal))
        {
            throw new LlamaLibraryException(
                $"The llama.cpp library {location.LlamaPath} ({location.Source}) is version '{version}', " +
                $"but the binding is written for {LlamaPinnedVersion.VersionPrefix}. {wrongVersion}");
        }

        CheckStructLayout(location, wrongVersion);

        LlamaNative.llama_log_set(&OnNativeLog, 0);

        // The prebuilt packages ship each CPU backend as a loadable module; without this call no
        // device exists and every model load fails.
        var directoryBytes = Encoding.UTF8.GetBytes(location.Directory + "\0");
        fixed (byte* directory = directoryBytes)
        {
            LlamaNative.ggml_backend_load_all_from_path(directory);
        }

        LlamaNative.llama_backend_init();

        var devices = new List<string>();
        var deviceCount = (int)LlamaNative.ggml_backend_dev_count();
        for (var i = 0; i < deviceCount; i++)
        {
            var device = LlamaNative.ggml_backend_dev_get((nuint)i);
            devices.Add(device == 0 ? "?" : Marshal.PtrToStringUTF8((nint)LlamaNative.ggml_backend_dev_name(device)) ?? "?");
        }

        if (devices.Count == 0)
        {
            throw new LlamaLibraryException(
                $"llama.cpp loaded from {location.Directory} ({location.Source}) found no compute backend; the folder should hold " +
                "the ggml backend modules (libggml-cpu-*.so, or a GPU backend). Delete the folder and rebuild to fetch it again, " +
                $"or set {LlamaPinnedVersion.LibraryDirectoryVariable} to a complete build.");
        }

        return new LlamaRuntimeInfo(location, version, devices, LlamaNative.llama_supports_gpu_offload() != 0);
    }

    /// <summary>
    /// Reads the defaults llama.cpp fills into its parameter structs; a library built from other
    /// headers shows different values at these offsets, which would corrupt every call.
    /// </summary>
    private static void CheckStructLayout(LlamaLibraryLocation location, string wrongVersion)
    {
        var context = LlamaNative.llama_context_default_params();
        var model = LlamaNative.llama_model_default_params();
        var problems = new List<string>();
        Expect(context.ContextSize == 512, "llama_context_params.n_ctx");
        Expect(context.BatchSize == 2048, "llama_context_params.n_batch");
        Expect(context.MicroBatchSize == 512, "llama_context_params.n_ubatch");
        Expect(context.MaxSequences == 1, "llama_context_params.n_seq_max");
        Expect(context.FlashAttentionType == LlamaFlashAttentionType.Auto, "llama_context_params.flash_attn_type");
        Expect(context.KeyCacheType == 1 && context.ValueCacheType == 1, "llama_context_params.type_k/type_v");
        Expect(context.OffloadKqv == 1 && context.KvUnified == 0, "llama_context_params.offload_kqv/kv_unified");
        Expect(context.Samplers == 0 && context.SamplerCount == 0 && context.OtherContext == 0, "llama_context_params.samplers/ctx_other");
        Expect(model.GpuLayerCount == -1, "llama_model_params.n_gpu_layers");
        Expect(model.SplitMode == LlamaSplitMode.Layer, "llama_model_params.split_mode");
        Expect(model.LoadMode == LlamaLoadMode.Auto, "llama_model_params.load_mode");
        Expect(model.UseExtraBufferTypes == 1 && model.VocabOnly == 0, "llama_model_params.use_extra_bufts/vocab_only");
        if (problems.Count > 0)
        {
            throw new LlamaLibraryException(
                $"The llama.cpp library {location.LlamaPath} ({location.Source}) reports unexpected defaults for {string.Join(", ", problems)}: " +
                $"its structs do not have the layout of llama.cpp {LlamaPinnedVersion.Release}. {wrongVersion}");
        }

        void Expect(bool condition, string field)
        {
            if (!condition)
            {
                problems.Add(field);
            }
        }
    }

    [UnmanagedCallersOnly]
    private static void OnNativeLog(GgmlLogLevel level, byte* text, nint userData)
    {
        try
        {
            if (level == GgmlLogLevel.Continue)
            {
                level = lastLevel;
            }
            else
            {
                lastLevel = level;
            }

            if (text is null)
            {
                return;
            }

            var message = Marshal.PtrToStringUTF8((nint)text)?.TrimEnd('\n', '\r');
            if (string.IsNullOrEmpty(message))
            {
                return;
            }

            if (level == GgmlLogLevel.Error)
            {
                RecentErrorLines.Enqueue(message);
                while (RecentErrorLines.Count > RecentErrorCapacity && RecentErrorLines.TryDequeue(out _))
                {
                }
            }

            var logLevel = level switch
            {
                GgmlLogLevel.Error => LogLevel.Error,
                GgmlLogLevel.Warn => LogLevel.Warning,
                GgmlLogLevel.Info => LogLevel.Debug,
                _ => LogLevel.Trace,
            };
            var current = logger;
            if (current.IsEnabled(logLevel))
            {
                LlamaNativeLog.NativeMessage(current, logLevel, message);
            }
        }
        catch (Exception)
        {
            // An exception must never unwind into native code.
        }
    }
}
