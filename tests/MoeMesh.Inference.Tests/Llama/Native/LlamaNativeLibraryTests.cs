using MoeMesh.Inference.Llama.Native;
using MoeMesh.Inference.Tests.TestSupport;

namespace MoeMesh.Inference.Tests.Llama.Native;

public sealed class LlamaNativeLibraryTests
{
    [Fact]
    public void The_environment_variable_is_the_only_folder_searched_when_set()
    {
        using var directory = new TemporaryDirectory();
        var candidates = LlamaNativeLibrary.CandidateDirectories(directory.Path, configuredDirectory: "/somewhere/else");
        var only = Assert.Single(candidates);
        Assert.Equal(directory.Path, only.Directory);
        Assert.Equal(LlamaPinnedVersion.LibraryDirectoryVariable, only.Source);
    }

    [Fact]
    public void Without_the_variable_the_application_folder_comes_before_the_repository()
    {
        var candidates = LlamaNativeLibrary.CandidateDirectories(fromEnvironment: null, configuredDirectory: null);
        Assert.Equal(Path.Combine(AppContext.BaseDirectory, "llama", LlamaNativeLibrary.CurrentRid!), candidates[0].Directory);
        Assert.Contains(candidates, c => c.Source == "repository .native folder");
    }

    [Fact]
    public void A_folder_without_the_libraries_is_a_clear_error_that_says_what_to_do()
    {
        using var directory = new TemporaryDirectory();
        var error = Assert.Throws<LlamaLibraryException>(
            () => LlamaNativeLibrary.Locate(LlamaNativeLibrary.CandidateDirectories(directory.Path, null)));
        Assert.Contains(directory.Path, error.Message);
        Assert.Contains("no libllama/libggml there", error.Message);
        Assert.Contains(LlamaPinnedVersion.LibraryDirectoryVariable, error.Message);
        Assert.Contains(LlamaPinnedVersion.PackageVersion, error.Message);
    }

    [Fact]
    public void The_build_puts_the_pinned_libraries_next_to_the_application()
    {
        var location = LlamaNativeLibrary.Locate(LlamaNativeLibrary.CandidateDirectories(null, null));
        Assert.Equal("application folder", location.Source);
        Assert.EndsWith($"libllama.{LlamaPinnedVersion.Release}.so", location.LlamaPath);
    }

    [Fact]
    public void The_runtime_loads_the_pinned_version_with_a_cpu_backend()
    {
        var info = LlamaRuntime.EnsureInitialized();
        Assert.StartsWith(LlamaPinnedVersion.VersionPrefix, info.Version);
        Assert.Contains(info.Devices, d => d.Contains("CPU", StringComparison.OrdinalIgnoreCase));
        Assert.Same(info, LlamaRuntime.EnsureInitialized());
    }
}
