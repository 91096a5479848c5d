using MoeMesh.Inference.Llama.Runtime;
using MoeMesh.Inference.Tests.TestSupport;

namespace MoeMesh.Inference.Tests.Llama.Runtime;

/// <summary>
/// The choice of libllama for a Jetson-style custom build, with canned paths: the files are made
/// here (a text file, a shared library that is not libllama) or are the backend package's own.
/// </summary>
public sealed class LlamaLibrarySelectionTests
{
    [Fact]
    public void Without_the_variable_or_the_setting_the_backend_package_is_used()
    {
        var choice = LlamaLibrarySelection.Choose(fromEnvironment: null, configuredPath: " ");
        Assert.Null(choice.LlamaPath);
        Assert.Equal(LlamaLibrarySelection.PackageSource, choice.Source);
    }

    [Fact]
    public void A_folder_without_the_library_names_the_file_expected_and_the_llama_cpp_commit()
    {
        using var directory = new TemporaryDirectory();
        var error = Assert.Throws<LlamaLibraryException>(() => LlamaLibrarySelection.Choose(null, directory.Path));
        Assert.Contains(Path.Combine(directory.Path, LlamaLibrarySelection.LibraryFileName), error.Message);
        Assert.Contains("does not exist", error.Message);
        Assert.Contains(LlamaBuild.LlamaCppShortCommit, error.Message);
        Assert.Contains(LlamaBuild.LibraryPathSetting, error.Message);
    }

    [Fact]
    public void The_environment_variable_wins_over_the_setting()
    {
        using var directory = new TemporaryDirectory();
        var missing = Path.Combine(directory.Path, "cuda", "libllama.so");
        var error = Assert.Throws<LlamaLibraryException>(() => LlamaLibrarySelection.Choose(missing, configuredPath: "/opt/elsewhere/libllama.so"));
        Assert.Contains(LlamaBuild.LibraryPathVariable, error.Message);
        Assert.Contains(missing, error.Message);
        Assert.DoesNotContain("/opt/elsewhere", error.Message);
    }

    [Fact]
    public void A_file_that_is_not_a_shared_library_is_refused()
    {
        using var directory = new TemporaryDirectory();
        var fake = directory.File(LlamaLibrarySelection.LibraryFileName);
        File.WriteAllText(fake, "not a library");
        var error = Assert.Throws<LlamaLibraryException>(() => LlamaLibrarySelection.Choose(fake, null));
        Assert.Contains("could not be loaded", error.Message);
        Assert.Contains(LlamaBuild.LlamaCppShortCommit, error.Message);
    }

    [Fact]
    public void A_shared_library_that_is_not_this_llama_cpp_is_refused_by_the_functions_it_lacks()
    {
        using var directory = new TemporaryDirectory();
        var packaged = Path.Combine(LlamaRuntime.EnsureInitialized().LibraryDirectory, OperatingSystem.IsWindows() ? "ggml-base.dll" : "libggml-base.so");
        var impostor = directory.File(LlamaLibrarySelection.LibraryFileName);
        File.Copy(packaged, impostor);

        var error = Assert.Throws<LlamaLibraryException>(() => LlamaLibrarySelection.Choose(null, impostor));
        Assert.Contains(impostor, error.Message);
        Assert.Contains("lacks llama_backend_init", error.Message);
        Assert.Contains(LlamaBuild.LlamaCppCommit, error.Message);
    }

    [Fact]
    public void A_matching_library_is_found_in_its_folder_with_its_multimodal_helper()
    {
        var folder = LlamaRuntime.EnsureInitialized().LibraryDirectory;
        var choice = LlamaLibrarySelection.Choose(null, folder);
        Assert.Equal(Path.Combine(folder, LlamaLibrarySelection.LibraryFileName), choice.LlamaPath);
        Assert.NotNull(choice.MtmdPath);
        Assert.Contains(LlamaBuild.LibraryPathSetting, choice.Source);
    }
}
