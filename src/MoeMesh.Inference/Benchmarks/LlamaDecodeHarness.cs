using System.Diagnostics;
using System.Text;
using System.Text.Json;
using MoeMesh.Inference.Llama.Native;

namespace MoeMesh.Inference.Benchmarks;

/// <summary>One run of the C harness.</summary>
internal sealed record LlamaHarnessRun(
    int Sequences,
    int PromptTokens,
    int GeneratedTokens,
    double TimeToFirstTokenMs,
    double PrefillTokensPerSecond,
    double DecodeTokensPerSecond,
    double TotalMs,
    double TotalTokensPerSecond,
    string FirstSequenceHex)
{
    public string FirstSequenceText => Encoding.UTF8.GetString(Convert.FromHexString(FirstSequenceHex));
}

/// <summary>
/// Builds the benchmark's C harness (embedded in this assembly) with gcc against the pinned
/// llama.h, linked to the very libllama the engine loaded, and runs it.
/// </summary>
internal sealed class LlamaDecodeHarness
{
    private const string ResourceName = "MoeMesh.Inference.Benchmarks.llama_decode_harness.c";
    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);

    private readonly string executable;
    private readonly string backendDirectory;

    private LlamaDecodeHarness(string executable, string backendDirectory)
    {
        this.executable = executable;
        this.backendDirectory = backendDirectory;
    }

    /// <summary>The folder holding llama.h: next to the application, or in the repository's .native folder.</summary>
    public static string FindIncludeDirectory()
    {
        var candidates = new List<string> { Path.Combine(AppContext.BaseDirectory, LlamaPinnedVersion.ApplicationFolder, "include") };
        foreach (var start in new[] { AppContext.BaseDirectory, Environment.CurrentDirectory })
        {
            if (LlamaNativeLibrary.FindRepositoryNativeRoot(start) is { } root)
            {
                candidates.Add(Path.Combine(root, "include"));
            }
        }

        return candidates.FirstOrDefault(c => File.Exists(Path.Combine(c, "llama.h")))
            ?? throw new InvalidOperationException(
                $"llama.h of llama.cpp {LlamaPinnedVersion.Release} was not found (tried {string.Join(", ", candidates)}). " +
                "Build the solution with -p:MoeMeshLlamaFetchHeaders=true (the default) so it fetches the headers.");
    }

    public static async Task<LlamaDecodeHarness> BuildAsync(string workDirectory, LlamaLibraryLocation library, CancellationToken cancellationToken)
    {
        var source = Path.Combine(workDirectory, "llama_decode_harness.c");
        await using (var resource = typeof(LlamaDecodeHarness).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"The resource {ResourceName} is missing from the assembly."))
        await using (var file = File.Create(source))
        {
            await resource.CopyToAsync(file, cancellationToken).ConfigureAwait(false);
        }

        var executable = Path.Combine(workDirectory, "llama_decode_harness");
        var (code, _, errors) = await RunProcessAsync(
            "gcc",
            ["-O2", "-std=gnu11", source, "-I", FindIncludeDirectory(), library.LlamaPath, library.GgmlPath, $"-Wl,-rpath,{library.Directory}", "-o", executable],
            cancellationToken).ConfigureAwait(false);
        if (code != 0)
        {
            throw new InvalidOperationException($"gcc could not build the benchmark harness ({code}):\n{errors}");
        }

        return new LlamaDecodeHarness(executable, library.Directory);
    }

    public async Task<LlamaHarnessRun> RunAsync(string model, int threads, int tokens, int contextPerSequence, int maxSequences, int batchSize, IReadOnlyList<string> prompts, string workDirectory, CancellationToken cancellationToken)
    {
        var promptsFile = Path.Combine(workDirectory, $"prompts-{Guid.NewGuid():N}.bin");
        await File.WriteAllTextAsync(promptsFile, string.Join('\0', prompts), new UTF8Encoding(false), cancellationToken).ConfigureAwait(false);
        try
        {
            var (code, output, errors) = await RunProcessAsync(
                executable,
                [model, backendDirectory, threads.ToString(System.Globalization.CultureInfo.InvariantCulture), tokens.ToString(System.Globalization.CultureInfo.InvariantCulture),
                 contextPerSequence.ToString(System.Globalization.CultureInfo.InvariantCulture), maxSequences.ToString(System.Globalization.CultureInfo.InvariantCulture), batchSize.ToString(System.Globalization.CultureInfo.InvariantCulture), promptsFile],
                cancellationToken).ConfigureAwait(false);
            if (code != 0)
            {
                throw new InvalidOperationException($"The benchmark harness failed ({code}): {errors.Trim()}");
            }

            return JsonSerializer.Deserialize<LlamaHarnessRun>(output.Trim(), JsonOptions)
                ?? throw new InvalidOperationException("The benchmark harness printed no result.");
        }
        finally
        {
            File.Delete(promptsFile);
        }
    }

    private static async Task<(int Code, string Output, string Errors)> RunProcessAsync(string file, IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException($"{file} did not start.");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"{file} could not be started ({e.Message}); the benchmark needs gcc on PATH to build its C baseline.", e);
        }

        using (process)
        {
            var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
            var errors = process.StandardError.ReadToEndAsync(cancellationToken);
            try
            {
                await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw;
            }

            return (process.ExitCode, await output.ConfigureAwait(false), await errors.ConfigureAwait(false));
        }
    }
}
