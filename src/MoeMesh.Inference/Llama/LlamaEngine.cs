using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using MoeMesh.Errors;
using MoeMesh.Experts;
using MoeMesh.Generation;
using MoeMesh.Inference.Engines;

namespace MoeMesh.Inference.Llama;

/// <summary>
/// A GGUF model loaded in llama.cpp, serving one expert. Requests are tokenized on the caller's
/// thread (so bad requests fail before anything is queued), then handed to one of the expert's
/// contexts: the one already holding the longest prefix of the prompt, else the least busy.
/// Each context decodes up to <see cref="LlamaEngineOptions.SequencesPerContext"/> requests together.
/// </summary>
public sealed class LlamaEngine : IExpertEngine
{
    private readonly LlamaModel _model;
    private readonly LlamaPromptFormatter _formatter;
    private readonly LlamaSequenceScheduler[] _schedulers;
    private readonly LlamaExpertSettings _settings;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private int _disposed;

    internal LlamaEngine(ExpertManifest manifest, LlamaModel model, LlamaExpertSettings settings, LlamaPromptFormatter formatter, LlamaSequenceScheduler[] schedulers, ILogger logger, TimeProvider time)
    {
        Manifest = manifest;
        _model = model;
        _settings = settings;
        _formatter = formatter;
        _schedulers = schedulers;
        _logger = logger;
        _time = time;
        var headSize = model.HeadCount > 0 ? model.EmbeddingLength / model.HeadCount : 0;
        var keyValueBytesPerCell = 2L * 2 * headSize * model.KeyValueHeadCount * model.LayerCount;
        ResidentBytes = model.WeightBytes + schedulers.Sum(s => (long)s.ContextTokens) * keyValueBytesPerCell;
    }

    public ExpertManifest Manifest { get; }

    /// <summary>Weights plus the F16 KV cache of every context.</summary>
    public long ResidentBytes { get; }

    /// <summary>Which chat template the engine applies, for diagnostics.</summary>
    public string ChatTemplate => _formatter.TemplateDescription;

    /// <summary>Tokens in the model's vocabulary.</summary>
    public int VocabularySize => _model.VocabularySize;

    /// <summary>The context window of each request, in tokens.</summary>
    public int ContextSize => _settings.ContextSize;

    /// <summary>Requests decoded together per context.</summary>
    public int SequencesPerContext => _settings.SequencesPerContext;

    /// <summary>The prompt text a request becomes after templating (what is tokenized).</summary>
    public string FormatPrompt(GenerationRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return request.RawPrompt ?? _formatter.Format(request.Messages);
    }

    /// <summary>Tokens of <paramref name="text"/> as the model sees them (with its start token when it adds one).</summary>
    public IReadOnlyList<int> Tokenize(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        using var lease = LeaseModel();
        return _model.Tokenize(text, addSpecial: true);
    }

    /// <summary>The text of <paramref name="tokens"/>, decoded together.</summary>
    public string Detokenize(IEnumerable<int> tokens)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        using var lease = LeaseModel();
        return _model.Detokenize([.. tokens.Where(t => t >= 0 && t < _model.VocabularySize)]);
    }

    public async IAsyncEnumerable<GenerationChunk> GenerateAsync(GenerationRequest request, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var startedAt = _time.GetTimestamp();
        ThrowIfDisposed();
        InvalidRequestException.ThrowIfAny(request.Validate(), "generation request");
        cancellationToken.ThrowIfCancellationRequested();

        PreparedPrompt prompt;
        using (LeaseModel())
        {
            prompt = _formatter.Prepare(request, _settings.ContextSize);
        }

        var job = new LlamaGenerationJob(request, prompt, startedAt, _time, cancellationToken);
        Route(prompt.Tokens).Enqueue(job);
        try
        {
            var reader = job.Output;
            while (await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                while (reader.TryRead(out var chunk))
                {
                    // Chunks may be buffered ahead of the reader; none is delivered after cancellation.
                    cancellationToken.ThrowIfCancellationRequested();
                    yield return chunk;
                }
            }
        }
        finally
        {
            // A caller that stops reading early frees its sequence at the next step.
            job.Abandon();
        }
    }

    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return ValueTask.CompletedTask;
        }

        // Joining the decode threads blocks; do it off the caller's thread.
        return new ValueTask(Task.Run(() =>
        {
            foreach (var scheduler in _schedulers)
            {
                scheduler.Dispose();
            }

            _model.Dispose();
            LlamaEngineLog.ModelUnloaded(_logger, Manifest.Id);
        }));
    }

    private LlamaSequenceScheduler Route(int[] prompt)
    {
        if (_schedulers.Length == 1)
        {
            return _schedulers[0];
        }

        // A shared prefix counts only when it saves real work; the start token and template header
        // are in every prompt and would otherwise pin all traffic to one context.
        const int worthwhilePrefix = 32;
        return _schedulers
            .Select(s => (Scheduler: s, Prefix: s.CachedPrefixLength(prompt), s.Load))
            .OrderByDescending(c => c.Prefix >= worthwhilePrefix ? c.Prefix : 0)
            .ThenBy(c => c.Load)
            .First()
            .Scheduler;
    }

    /// <summary>A reference on the model for work done on the caller's thread; unloading waits for it.</summary>
    private LlamaModel.ModelLease LeaseModel()
    {
        ThrowIfDisposed();
        try
        {
            return _model.Lease();
        }
        catch (ObjectDisposedException)
        {
            throw new ExpertUnavailableException($"The expert '{Manifest.Id}' was unloaded.");
        }
    }

    private void ThrowIfDisposed()
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            throw new ExpertUnavailableException($"The expert '{Manifest.Id}' was unloaded.");
        }
    }
}
