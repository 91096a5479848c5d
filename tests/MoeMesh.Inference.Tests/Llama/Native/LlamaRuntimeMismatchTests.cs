using System.Reflection;
using System.Runtime.Loader;
using System.Text;
using MoeMesh.Inference.Llama.Native;
using MoeMesh.Inference.Tests.TestSupport;

namespace MoeMesh.Inference.Tests.Llama.Native;

/// <summary>
/// Points the runtime at libraries that are not the pinned llama.cpp and checks the errors. The
/// runtime's state is per process, so each case loads a fresh copy of the engine assembly in its
/// own load context; the fake libraries are built with gcc.
/// </summary>
public sealed class LlamaRuntimeMismatchTests
{
    [Fact]
    public void A_library_without_the_pinned_functions_is_refused_by_name()
    {
        using var directory = new TemporaryDirectory();
        BuildFakes(directory.Path, llamaBody: "void llama_something_else(void) {}\n", includeLlamaExports: false);

        var message = InitializeInFreshContext(directory.Path);
        Assert.Contains("lack llama_version", message);
        Assert.Contains("not llama.cpp v0.5.0", message);
        Assert.Contains(LlamaPinnedVersion.LibraryDirectoryVariable, message);
    }

    [Fact]
    public void Another_llama_cpp_version_is_refused()
    {
        using var directory = new TemporaryDirectory();
        BuildFakes(directory.Path, llamaBody: "const char * llama_version(void) { return \"0.4.9\"; }\n", includeLlamaExports: true);

        var message = InitializeInFreshContext(directory.Path);
        Assert.Contains("is version '0.4.9'", message);
        Assert.Contains("written for 0.5.0", message);
    }

    [Fact]
    public void A_library_whose_structs_have_another_layout_is_refused()
    {
        using var directory = new TemporaryDirectory();
        BuildFakes(directory.Path, llamaBody: "const char * llama_version(void) { return \"0.5.0-other\"; }\n", includeLlamaExports: true);

        var message = InitializeInFreshContext(directory.Path);
        Assert.Contains("unexpected defaults", message);
        Assert.Contains("llama_context_params.n_ctx", message);
    }

    private static string InitializeInFreshContext(string libraryDirectory)
    {
        var context = new AssemblyLoadContext("llama-mismatch", isCollectible: true);
        try
        {
            var assembly = context.LoadFromAssemblyPath(typeof(LlamaRuntime).Assembly.Location);
            var runtime = assembly.GetType(typeof(LlamaRuntime).FullName!, throwOnError: true)!;
            var initialize = runtime.GetMethod(nameof(LlamaRuntime.EnsureInitialized))!;
            var error = Assert.Throws<TargetInvocationException>(() => initialize.Invoke(null, [libraryDirectory, null]));
            Assert.Equal(typeof(LlamaLibraryException).FullName, error.InnerException!.GetType().FullName);
            return error.InnerException.Message;
        }
        finally
        {
            context.Unload();
        }
    }

    /// <summary>Fake libllama.so and libggml.so exporting stubs (zero-filled parameter structs).</summary>
    private static void BuildFakes(string directory, string llamaBody, bool includeLlamaExports)
    {
        var llama = new StringBuilder("struct model_params { char b[80]; };\nstruct context_params { char b[160]; };\n");
        llama.Append("struct model_params llama_model_default_params(void) { struct model_params p = {{0}}; return p; }\n");
        llama.Append("struct context_params llama_context_default_params(void) { struct context_params p = {{0}}; return p; }\n");
        if (includeLlamaExports)
        {
            foreach (var name in LlamaNative.RequiredLlamaExports.Except(["llama_version", "llama_model_default_params", "llama_context_default_params"]))
            {
                llama.Append($"void {name}(void) {{}}\n");
            }
        }

        llama.Append(llamaBody);
        Compile(directory, "libllama.so", llama.ToString());
        Compile(directory, "libggml.so", string.Concat(LlamaNative.RequiredGgmlExports.Select(name => $"void {name}(void) {{}}\n")));
    }

    private static void Compile(string directory, string library, string source)
    {
        var sourcePath = Path.Combine(directory, library + ".c");
        File.WriteAllText(sourcePath, source);
        using var process = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("gcc", ["-shared", "-fPIC", sourcePath, "-o", Path.Combine(directory, library)])
        {
            RedirectStandardError = true,
        })!;
        var errors = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, errors);
    }
}
