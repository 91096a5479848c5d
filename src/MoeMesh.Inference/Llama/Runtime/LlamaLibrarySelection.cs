using System.Runtime.InteropServices;

namespace MoeMesh.Inference.Llama.Runtime;

/// <summary>Which libllama LLamaSharp is told to load.</summary>
/// <param name="LlamaPath">Full path of a libllama chosen by the operator, or null for the backend package's own.</param>
/// <param name="MtmdPath">The multimodal helper library beside it, when present (LLamaSharp loads it separately).</param>
/// <param name="Source">Where the choice came from, for messages.</param>
public sealed record LlamaLibraryChoice(string? LlamaPath, string? MtmdPath, string Source);

/// <summary>
/// Chooses the llama.cpp library: <see cref="LlamaBuild.LibraryPathVariable"/> when set, else
/// <see cref="LlamaEngineOptions.NativeLibraryPath"/>, else the LLamaSharp backend package's build
/// for this machine. An operator's choice (a file, or a folder holding the library) is checked
/// before LLamaSharp sees it, so a missing or foreign library is a message naming what was
/// expected, not a crash.
/// </summary>
public static class LlamaLibrarySelection
{
    /// <summary>The source named when neither the variable nor the setting is used.</summary>
    public const string PackageSource = "the LLamaSharp backend package";

    /// <summary>The file name of libllama on this operating system.</summary>
    public static string LibraryFileName =>
        OperatingSystem.IsWindows() ? "llama.dll" : OperatingSystem.IsMacOS() ? "libllama.dylib" : "libllama.so";

    /// <summary>The choice for the current environment variable and <paramref name="configuredPath"/>.</summary>
    public static LlamaLibraryChoice Choose(string? configuredPath) =>
        Choose(Environment.GetEnvironmentVariable(LlamaBuild.LibraryPathVariable), configuredPath);

    /// <summary>The choice for the given values of the variable and the setting; throws <see cref="LlamaLibraryException"/> when the named library is unusable.</summary>
    public static LlamaLibraryChoice Choose(string? fromEnvironment, string? configuredPath)
    {
        if (!string.IsNullOrWhiteSpace(fromEnvironment))
        {
            // An explicit choice is never silently replaced by the package's CPU build.
            return Locate(fromEnvironment, $"the environment variable {LlamaBuild.LibraryPathVariable}");
        }

        return string.IsNullOrWhiteSpace(configuredPath)
            ? new LlamaLibraryChoice(null, null, PackageSource)
            : Locate(configuredPath, $"the setting {LlamaBuild.LibraryPathSetting}");
    }

    private static LlamaLibraryChoice Locate(string path, string source)
    {
        var full = Path.GetFullPath(path);
        var file = Directory.Exists(full) ? Path.Combine(full, LibraryFileName) : full;
        if (!File.Exists(file))
        {
            throw new LlamaLibraryException(
                $"{Capitalize(source)} names {path}, but {file} does not exist. Expected {LibraryFileName} of {ExpectedFor()}, " +
                $"with its libggml libraries beside it; or unset it to use {PackageSource}.");
        }

        if (!NativeLibrary.TryLoad(file, out var handle))
        {
            throw new LlamaLibraryException(
                $"{Capitalize(source)} names {file}, which could not be loaded: it is not a shared library for this machine " +
                $"({RuntimeInformation.OSArchitecture}), or libraries it needs (libggml, libggml-base, the CUDA runtime) are missing. " +
                $"Expected {LibraryFileName} of {ExpectedFor()}.");
        }

        try
        {
            var missing = LlamaBuild.RequiredExports.Where(name => !NativeLibrary.TryGetExport(handle, name, out _)).ToList();
            if (missing.Count > 0)
            {
                throw new LlamaLibraryException(
                    $"{Capitalize(source)} names {file}, which is not {LlamaBuild.ExpectedBuild}: it lacks {string.Join(", ", missing.Take(6))}" +
                    $"{(missing.Count > 6 ? $" and {missing.Count - 6} more" : "")}. Build llama.cpp at commit {LlamaBuild.LlamaCppCommit} " +
                    "as a shared library and point the setting at its libllama.");
            }
        }
        finally
        {
            NativeLibrary.Free(handle);
        }

        var directory = Path.GetDirectoryName(file)!;
        var mtmd = Path.Combine(directory, LibraryFileName.Replace("llama", "mtmd", StringComparison.Ordinal));
        return new LlamaLibraryChoice(file, File.Exists(mtmd) ? mtmd : null, source);
    }

    private static string ExpectedFor() => $"{LlamaBuild.ExpectedBuild}, built for {RuntimeInformation.OSDescription.Split(' ')[0]} {RuntimeInformation.OSArchitecture}";

    private static string Capitalize(string text) => char.ToUpperInvariant(text[0]) + text[1..];
}
