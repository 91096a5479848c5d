using System.Diagnostics;
using System.Text;
using System.Text.Json;
using MoeMesh.Inference.Llama.Runtime;

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
/// Builds the benchmark's C harness (embedded in this assembly) with gcc, linked to the very
/// libllama LLamaSharp loaded (its own declarations stand in for llama.h, which the backend
/// package does not ship), and runs it.
/// </summary>
internal sealed class LlamaDecodeHarness
{
    private const string ResourceName = "MoeMesh.Inference.Benchmarks.llama_decode_harness.c";
    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);

    private readonly string _executable;

    private LlamaDecodeHarness(string executable)
    {
        _executable = executable;
    }

    public static async Task<LlamaDecodeHarness> BuildAsync(string workDirectory, LlamaRuntimeInfo runtime, CancellationToken cancellationToken)
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
            ["-O2", "-std=gnu11", source, runtime.LibraryPath, $"-Wl,-rpath,{runtime.LibraryDirectory}", "-o", executable],
            cancellationToken).ConfigureAwait(false);
        if (code != 0)
        {
            throw new InvalidOperationException($"gcc could not build the benchmark harness ({code}):\n{errors}");
        }

        return new LlamaDecodeHarness(executable);
    }

    public async Task<LlamaHarnessRun> RunAsync(string model, int threads, int tokens, int contextPerSequence, int maxSequences, int batchSize, IReadOnlyList<string> prompts, string workDirectory, CancellationToken cancellationToken)
    {
        var promptsFile = Path.Combine(workDirectory, $"prompts-{Guid.NewGuid():N}.bin");
        await File.WriteAllTextAsync(promptsFile, string.Join('\0', prompts), new UTF8Encoding(false), cancellationToken).ConfigureAwait(false);
        try
        {
            var (code, output, errors) = await RunProcessAsync(
                _executable,
                [model, threads.ToString(System.Globalization.CultureInfo.InvariantCulture), tokens.ToString(System.Globalization.CultureInfo.InvariantCulture),
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
