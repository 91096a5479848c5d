using System.Diagnostics;
using LLama.Native;
using MoeMesh.Inference.Llama.Runtime;

namespace MoeMesh.Inference.Moe.Oracle;

/// <summary>
/// llama.cpp (through LLamaSharp's low-level API) run on the same GGUF as MoeMesh: the independent
/// reference its logits and greedy continuations are checked against, and the baseline of the decode
/// benchmark. One sequence; not thread-safe.
/// </summary>
public sealed class LlamaCppMoeOracle : IDisposable
{
    private static readonly Lock LogLock = new();
    private static bool _logConfigured;

    private readonly SafeLlamaModelHandle _model;
    private readonly SafeLLamaContextHandle _context;
    private readonly LLamaBatch _batch = new();

    private LlamaCppMoeOracle(SafeLlamaModelHandle model, SafeLLamaContextHandle context, int vocabularySize, int contextSize)
    {
        _model = model;
        _context = context;
        VocabularySize = vocabularySize;
        ContextSize = contextSize;
    }

    /// <summary>Length of one token's logits.</summary>
    public int VocabularySize { get; }

    /// <summary>Tokens the context holds.</summary>
    public int ContextSize { get; }

    /// <summary>Loads <paramref name="ggufPath"/> on the CPU with a context of <paramref name="contextSize"/> tokens.</summary>
    public static LlamaCppMoeOracle Open(string ggufPath, int contextSize = 512, int threads = 2)
    {
        ArgumentException.ThrowIfNullOrEmpty(ggufPath);
        if (!File.Exists(ggufPath))
        {
            throw new FileNotFoundException($"Model file '{ggufPath}' does not exist.", ggufPath);
        }

        QuietLogs();

        // The same libllama as the engine, chosen once per process (MOEMESH_LLAMA_LIBRARY applies to both).
        LlamaRuntime.EnsureInitialized();
        var modelParameters = LLamaModelParams.Default();
        modelParameters.n_gpu_layers = 0;
        var model = SafeLlamaModelHandle.LoadFromFile(ggufPath, modelParameters);
        try
        {
            var contextParameters = LLamaContextParams.Default();
            contextParameters.n_ctx = (uint)contextSize;
            contextParameters.n_batch = (uint)contextSize;
            contextParameters.n_ubatch = (uint)contextSize;
            contextParameters.n_threads = threads;
            contextParameters.n_threads_batch = threads;
            var context = SafeLLamaContextHandle.Create(model, contextParameters);
            return new LlamaCppMoeOracle(model, context, model.Vocab.Count, contextSize);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>Clears the sequence and returns the logits of every position of <paramref name="tokens"/> (T × vocabulary, row-major).</summary>
    public float[] EvaluateAll(ReadOnlySpan<int> tokens)
    {
        _context.MemoryClear(true);
        var logits = new float[tokens.Length * VocabularySize];
        Decode(tokens, 0, allLogits: true);
        for (var i = 0; i < tokens.Length; i++)
        {
            _context.GetLogitsIth(i).CopyTo(logits.AsSpan(i * VocabularySize, VocabularySize));
        }

        return logits;
    }

    /// <summary>Clears the sequence, reads <paramref name="prompt"/> and generates <paramref name="count"/> tokens greedily.</summary>
    public int[] Greedy(ReadOnlySpan<int> prompt, int count) => Greedy(prompt, count, out _);

    /// <summary>As <see cref="Greedy(ReadOnlySpan{int}, int)"/>, also timing the decode steps (the prompt excluded).</summary>
    public int[] Greedy(ReadOnlySpan<int> prompt, int count, out TimeSpan decodeTime)
    {
        _context.MemoryClear(true);
        var output = new int[count];
        Decode(prompt, 0, allLogits: false);
        var next = ArgMax(_context.GetLogitsIth(prompt.Length - 1));
        var watch = Stopwatch.StartNew();
        for (var i = 0; i < count; i++)
        {
            output[i] = next;
            if (i == count - 1)
            {
                break;
            }

            Decode([next], prompt.Length + i, allLogits: false);
            next = ArgMax(_context.GetLogitsIth(0));
        }

        decodeTime = watch.Elapsed;
        return output;
    }

    /// <summary>Index of the largest value (the first on ties).</summary>
    public static int ArgMax(ReadOnlySpan<float> values)
    {
        var best = 0;
        for (var i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best])
            {
                best = i;
            }
        }

        return best;
    }

    public void Dispose()
    {
        _context.Dispose();
        _model.Dispose();
    }

    private void Decode(ReadOnlySpan<int> tokens, int firstPosition, bool allLogits)
    {
        if (firstPosition + tokens.Length > ContextSize)
        {
            throw new ArgumentException($"{firstPosition + tokens.Length} tokens do not fit the context of {ContextSize}.", nameof(tokens));
        }

        _batch.Clear();
        for (var i = 0; i < tokens.Length; i++)
        {
            if ((uint)tokens[i] >= (uint)VocabularySize)
            {
                throw new ArgumentOutOfRangeException(nameof(tokens), $"Token {tokens[i]} is outside the vocabulary of {VocabularySize}.");
            }

            _batch.Add(tokens[i], firstPosition + i, LLamaSeqId.Zero, allLogits || i == tokens.Length - 1);
        }

        var result = _context.Decode(_batch);
        if (result != DecodeResult.Ok)
        {
            throw new InvalidOperationException($"llama.cpp could not decode the batch: {result}.");
        }
    }

    /// <summary>llama.cpp logs every tensor it loads; only its errors are worth showing.</summary>
    private static void QuietLogs()
    {
        lock (LogLock)
        {
            if (_logConfigured || NativeLibraryConfig.LLama.LibraryHasLoaded)
            {
                return;
            }

            NativeLibraryConfig.All.WithLogCallback((level, message) =>
            {
                if (level == LLamaLogLevel.Error)
                {
                    Console.Error.Write(message);
                }
            });
            _logConfigured = true;
        }
    }
}
