using System.Threading.Channels;
using MoeMesh.Generation;
using MoeMesh.Inference.Generation;
using LLama.Native;

namespace MoeMesh.Inference.Llama;

/// <summary>
/// One request inside a <see cref="LlamaSequenceScheduler"/>: its prompt, its sampler chain, the
/// text pipeline (UTF-8 assembly, stop strings) and the channel its chunks stream through. Apart
/// from cancellation, everything here is touched only by the scheduler's thread.
/// </summary>
internal sealed class LlamaGenerationJob : IDisposable
{
    private readonly Channel<GenerationChunk> _output = Channel.CreateUnbounded<GenerationChunk>(
        new UnboundedChannelOptions { SingleReader = true, SingleWriter = true, AllowSynchronousContinuations = false });

    /// <summary>
    /// Text produced within this interval (a millisecond, in <see cref="TimeProvider"/> ticks) after
    /// the last chunk waits and goes out with the next one: waking the reader costs the decoding
    /// thread a few microseconds, which matters only for very fast models, and a millisecond of
    /// delay is invisible to a reader of streamed text.
    /// </summary>
    private readonly long _coalesceTicks;
    private readonly TimeProvider _time;

    private readonly Utf8TextAssembler _assembler = new();
    private readonly StopStringFilter _stopFilter;
    private readonly System.Text.StringBuilder _unsent = new();
    private long _lastChunkAt;
    private CancellationTokenRegistration _cancellationRegistration;
    private volatile bool _abandoned;
    private bool _finished;

    /// <param name="startedAt">When the request arrived (before templating and tokenization), as a <paramref name="time"/> timestamp.</param>
    public LlamaGenerationJob(GenerationRequest request, PreparedPrompt prompt, long startedAt, TimeProvider time, CancellationToken cancellationToken)
    {
        _time = time;
        _coalesceTicks = time.TimestampFrequency / 1000;
        Request = request;
        PromptTokens = prompt.Tokens;
        CancellationToken = cancellationToken;
        _stopFilter = new StopStringFilter(request.Stop);
        StartedAt = startedAt;
        EnqueuedAt = time.GetTimestamp();
        Deadline = request.TimeBudgetMs is { } budget
            ? startedAt + (long)(budget * time.TimestampFrequency / 1000)
            : long.MaxValue;
    }

    public GenerationRequest Request { get; }

    public int[] PromptTokens { get; }

    public CancellationToken CancellationToken { get; }

    public ChannelReader<GenerationChunk> Output => _output.Reader;

    /// <summary>True when the caller cancelled or stopped reading.</summary>
    public bool IsCancelled => _abandoned || CancellationToken.IsCancellationRequested;

    public bool IsFinished => _finished;

    // ---- scheduler state ----

    public LlamaSequenceSlot? Slot { get; set; }

    public SafeLLamaSamplerChainHandle? Sampler { get; set; }

    /// <summary>Next prompt token to decode; equal to the prompt length once prefill is done.</summary>
    public int NextPromptIndex { get; set; }

    /// <summary>A sampled token not yet decoded, fed back in the next step.</summary>
    public int? PendingToken { get; set; }

    /// <summary>Index in the current batch whose logits this job samples from, or -1.</summary>
    public int OutputIndex { get; set; } = -1;

    /// <summary>Tokens this job put into the current batch.</summary>
    public int TokensInBatch { get; set; }

    public int ReusedTokens { get; set; }

    public int GeneratedTokens { get; set; }

    public int MaxBatchSequences { get; set; } = 1;

    public long StartedAt { get; }

    /// <summary>When the request's time budget runs out, as a <see cref="TimeProvider"/> timestamp (never, without one).</summary>
    public long Deadline { get; }

    public long EnqueuedAt { get; }

    public long AdmittedAt { get; set; }

    public long FirstTokenAt { get; set; }

    public long LastTokenAt { get; set; }

    public bool IsPrefilling => NextPromptIndex < PromptTokens.Length;

    /// <summary>The scheduler gave this request a sequence.</summary>
    public void MarkAdmitted() => AdmittedAt = _time.GetTimestamp();

    /// <summary>
    /// Takes a token sampled for this request: counts it and feeds its text through the pipeline.
    /// Returns why the generation ends now, or null when the token is to be decoded next.
    /// </summary>
    public FinishReason? TakeToken(int token, LlamaModel model, int contextSize)
    {
        var now = _time.GetTimestamp();
        if (FirstTokenAt == 0)
        {
            FirstTokenAt = now;
        }

        LastTokenAt = now;
        GeneratedTokens++;

        if (model.IsEndOfGeneration(token))
        {
            return FinishReason.EndOfText;
        }

        Span<byte> piece = stackalloc byte[128];
        var length = model.TokenToPiece(token, piece);
        var stopped = length >= 0 ? AppendTokenBytes(piece[..length]) : AppendTokenBytes(model.TokenBytes(token));
        if (stopped)
        {
            return FinishReason.Stop;
        }

        if (GeneratedTokens >= Request.MaxTokens)
        {
            return FinishReason.MaxTokens;
        }

        if (now >= Deadline)
        {
            // The budget is spent: the text so far is the answer, rather than none after a cancel.
            return FinishReason.Budget;
        }

        if (Slot!.History.Count + 1 >= contextSize)
        {
            // The token just sampled takes the window's last position: prompt plus output fill it.
            return FinishReason.ContextFull;
        }

        PendingToken = token;
        return null;
    }

    /// <summary>Calls <paramref name="onCancelled"/> (on any thread) when the caller cancels.</summary>
    public void WatchCancellation(Action onCancelled) =>
        _cancellationRegistration = CancellationToken.UnsafeRegister(static state => ((Action)state!).Invoke(), onCancelled);

    /// <summary>The caller stopped reading; the scheduler drops the job at its next step.</summary>
    public void Abandon() => _abandoned = true;

    /// <summary>Feeds a generated token's bytes through the text pipeline; returns true when a stop string ended the text.</summary>
    public bool AppendTokenBytes(ReadOnlySpan<byte> bytes)
    {
        _unsent.Append(_stopFilter.Append(_assembler.Append(bytes)));
        var now = _time.GetTimestamp();
        if (_unsent.Length > 0 && now - _lastChunkAt >= _coalesceTicks)
        {
            _output.Writer.TryWrite(new GenerationChunk { Text = _unsent.ToString() });
            _unsent.Clear();
            _lastChunkAt = now;
        }

        return _stopFilter.Stopped;
    }

    /// <summary>Sends text held back by coalescing now (before a step that may take long).</summary>
    public void FlushUnsent()
    {
        if (_unsent.Length > 0)
        {
            _output.Writer.TryWrite(new GenerationChunk { Text = _unsent.ToString() });
            _unsent.Clear();
            _lastChunkAt = _time.GetTimestamp();
        }
    }

    /// <summary>Ends the stream with the held-back text and the metrics.</summary>
    public void Complete(FinishReason reason)
    {
        if (_finished)
        {
            return;
        }

        _finished = true;
        if (!_stopFilter.Stopped)
        {
            _unsent.Append(_stopFilter.Append(_assembler.Flush())).Append(_stopFilter.Flush());
        }

        if (_unsent.Length > 0)
        {
            _output.Writer.TryWrite(new GenerationChunk { Text = _unsent.ToString() });
            _unsent.Clear();
        }
        var now = _time.GetTimestamp();
        var firstToken = FirstTokenAt == 0 ? now : FirstTokenAt;
        var computedPromptTokens = PromptTokens.Length - ReusedTokens;
        var prefillSeconds = _time.GetElapsedTime(AdmittedAt == 0 ? EnqueuedAt : AdmittedAt, firstToken).TotalSeconds;
        var decodeSeconds = _time.GetElapsedTime(firstToken, LastTokenAt == 0 ? firstToken : LastTokenAt).TotalSeconds;
        var metrics = new GenerationMetrics
        {
            PromptTokens = PromptTokens.Length,
            ReusedPromptTokens = ReusedTokens,
            GeneratedTokens = GeneratedTokens,
            TimeToFirstTokenMs = FirstTokenAt == 0 ? 0 : _time.GetElapsedTime(StartedAt, FirstTokenAt).TotalMilliseconds,
            TotalMs = _time.GetElapsedTime(StartedAt, now).TotalMilliseconds,
            PrefillTokensPerSecond = FirstTokenAt == 0 || prefillSeconds <= 0 ? 0 : computedPromptTokens / prefillSeconds,
            DecodeTokensPerSecond = GeneratedTokens > 1 && decodeSeconds > 0 ? (GeneratedTokens - 1) / decodeSeconds : 0,
            FinishReason = reason,
            QueueMs = _time.GetElapsedTime(EnqueuedAt, AdmittedAt == 0 ? now : AdmittedAt).TotalMilliseconds,
            BatchSize = MaxBatchSequences,
        };
        _output.Writer.TryWrite(new GenerationChunk { Metrics = metrics });
        _output.Writer.TryComplete();
        Dispose();
    }

    /// <summary>Ends the stream with <paramref name="error"/> (cancellation ends it with <see cref="OperationCanceledException"/>).</summary>
    public void Fail(Exception error)
    {
        if (_finished)
        {
            return;
        }

        _finished = true;
        _output.Writer.TryComplete(error);
        Dispose();
    }

    public void Dispose()
    {
        _cancellationRegistration.Dispose();
        Sampler?.Dispose();
        Sampler = null;
    }
}
