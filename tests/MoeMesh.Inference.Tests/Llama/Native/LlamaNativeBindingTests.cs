using System.Reflection;
using System.Runtime.InteropServices;
using MoeMesh.Inference.Llama.Native;

namespace MoeMesh.Inference.Tests.Llama.Native;

public sealed class LlamaNativeBindingTests
{
    [Fact]
    public void Every_bound_function_is_checked_for_and_exported_by_the_loaded_library()
    {
        var bound = typeof(LlamaNative).GetMethods(BindingFlags.Public | BindingFlags.Static)
            .Where(m => m.GetCustomAttribute<LibraryImportAttribute>() is not null)
            .Select(m => (Name: m.Name, Library: m.GetCustomAttribute<LibraryImportAttribute>()!.LibraryName))
            .ToList();
        Assert.NotEmpty(bound);

        var required = LlamaNative.RequiredLlamaExports.Select(n => (n, LlamaNative.LlamaLibrary))
            .Concat(LlamaNative.RequiredGgmlExports.Select(n => (n, LlamaNative.GgmlLibrary)))
            .ToHashSet();
        Assert.Equal(bound.Order(), required.Order());

        LlamaRuntime.EnsureInitialized();
        Assert.All(bound, f => Assert.NotEqual(0, LlamaNativeLibrary.GetExport(f.Library, f.Name)));
    }
}
