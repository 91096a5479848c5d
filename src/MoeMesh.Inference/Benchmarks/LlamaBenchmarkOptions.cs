namespace MoeMesh.Inference.Benchmarks;

/// <summary>What <see cref="LlamaBenchmark"/> measures.</summary>
public sealed record LlamaBenchmarkOptions
{
    /// <summary>CPU threads, the same for the engine and the C harness.</summary>
    public int Threads { get; init; } = Llama.LlamaEngineOptions.DefaultThreads;

    /// <summary>Tokens generated per sequence in each run.</summary>
    public int DecodeTokens { get; init; } = 128;

    /// <summary>Transformer blocks of the synthesized model.</summary>
    public int Layers { get; init; } = 4;

    /// <summary>Hidden size of the synthesized model (heads of 64).</summary>
    public int Hidden { get; init; } = 512;

    /// <summary>Measured rounds; medians are reported. Engine and harness alternate within each round.</summary>
    public int Rounds { get; init; } = 11;

    /// <summary>Sequence counts for the batched-throughput measurement.</summary>
    public IReadOnlyList<int> BatchSequences { get; init; } = [1, 4, 8];

    /// <summary>Folder for the model and the compiled harness; null uses a temporary folder.</summary>
    public string? WorkDirectory { get; init; }

    /// <summary>Seed of the synthesized model.</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>Problems with the options, each naming the option; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var problems = new List<string>();
        if (Threads is < 1 or > 256)
        {
            problems.Add($"threads must be between 1 and 256, got {Threads}");
        }

        if (DecodeTokens is < 2 or > 1024)
        {
            problems.Add($"tokens must be between 2 and 1024, got {DecodeTokens}");
        }

        if (Layers is < 1 or > 64)
        {
            problems.Add($"layers must be between 1 and 64, got {Layers}");
        }

        if (Hidden < 64 || Hidden > 8192 || Hidden % 64 != 0)
        {
            problems.Add($"hidden must be a multiple of 64 between 64 and 8192, got {Hidden}");
        }

        if (Rounds is < 1 or > 100)
        {
            problems.Add($"rounds must be between 1 and 100, got {Rounds}");
        }

        if (BatchSequences.Count == 0 || BatchSequences.Any(n => n is < 1 or > 64))
        {
            problems.Add("batch sequence counts must be between 1 and 64");
        }

        return problems;
    }
}
