using System.Runtime.InteropServices;
using LLama.Native;
using MoeMesh.Inference.Llama.Runtime;

namespace MoeMesh.Inference.Tests.Llama.Runtime;

public sealed class LlamaRuntimeTests
{
    [Fact]
    public void The_runtime_loads_the_backend_packages_llama_cpp_through_LLamaSharp_with_a_cpu_device()
    {
        var info = LlamaRuntime.EnsureInitialized();
        Assert.True(File.Exists(info.LibraryPath), info.LibraryPath);
        Assert.Equal(LlamaLibrarySelection.LibraryFileName, Path.GetFileName(info.LibraryPath));
        Assert.StartsWith(Path.Combine(AppContext.BaseDirectory, "runtimes"), info.LibraryPath, StringComparison.Ordinal);
        Assert.Equal(LlamaLibrarySelection.PackageSource, info.Source);
        Assert.Contains(LlamaBuild.LlamaCppShortCommit, info.Version);
        Assert.Contains(info.Devices, d => d.Contains("CPU", StringComparison.OrdinalIgnoreCase));
        Assert.Same(info, LlamaRuntime.EnsureInitialized());
    }

    [Fact]
    public void The_build_copies_only_this_operating_systems_native_libraries_next_to_the_application()
    {
        // Without a named platform the build keeps both architectures of this operating system (so a
        // linux-arm64 publish from an x86-64 box carries arm64 libraries) and drops every other one.
        var runtimes = Path.Combine(AppContext.BaseDirectory, "runtimes");
        var libraries = Directory.GetFiles(runtimes, "*ggml-base*", SearchOption.AllDirectories);
        Assert.NotEmpty(libraries);
        var platforms = libraries.Select(f => Path.GetRelativePath(runtimes, f).Split(Path.DirectorySeparatorChar)[0]).Distinct().ToList();
        var system = OperatingSystem.IsLinux() ? "linux-" : OperatingSystem.IsWindows() ? "win-" : "osx-";
        Assert.All(platforms, p => Assert.StartsWith(system, p, StringComparison.Ordinal));
        Assert.InRange(platforms.Count, 1, 2);
        var own = system + RuntimeInformation.OSArchitecture.ToString().ToLowerInvariant();
        Assert.Contains(own, platforms);
        Assert.StartsWith(Path.Combine(runtimes, own), LlamaRuntime.EnsureInitialized().LibraryPath, StringComparison.Ordinal);
    }

    [Fact]
    public void The_loaded_librarys_default_structs_read_back_with_this_builds_layout()
    {
        LlamaRuntime.EnsureInitialized();
        Assert.Empty(LlamaRuntime.LayoutProblems(LLamaContextParams.Default(), LLamaModelParams.Default()));
    }

    [Fact]
    public void Structs_read_at_other_offsets_are_named_field_by_field()
    {
        // What a library built from other headers looks like: the defaults land elsewhere.
        var problems = LlamaRuntime.LayoutProblems(default, default);
        Assert.Contains("llama_context_params.n_batch", problems);
        Assert.Contains("llama_context_params.n_ubatch", problems);
        Assert.Contains("llama_model_params.n_gpu_layers", problems);
    }
}
