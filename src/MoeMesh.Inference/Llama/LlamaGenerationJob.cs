using System.Diagnostics;
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
    private readonly Channel<GenerationChunk> output = Channel.CreateUnbounded<GenerationChunk>(
        new UnboundedChannelOptions { SingleReader = true, SingleWriter = true, AllowSynchronousContinuations = false });

    /// <summary>
    /// Text produced within this interval after the last chunk waits and goes out with the next
    /// one: waking the reader costs the decoding thread a few microseconds, which matters only for
    /// very fast models, and a millisecond of delay is invisible to a reader of streamed text.
    /// </summary>
    private static readonly long CoalesceTicks = Stopwatch.Frequency / 1000;

    private readonly Utf8TextAssembler assembler = new();
    private readonly StopStringFilter stopFilter;
    private readonly System.Text.StringBuilder unsent = new();
    private long lastChunkAt;
    private CancellationTokenRegistration cancellationRegistration;
    private volatile bool abandoned;
    private bool finished;

    /// <param name="startedAt">When the request arrived (before templating and tokenization), as a <see cref="Stopwatch"/> timestamp.</param>
    public LlamaGenerationJob(GenerationRequest request, PreparedPrompt prompt, long startedAt, CancellationToken cancellationToken)
    {
        Request = request;
        PromptTokens = prompt.Tokens;
        CancellationToken = cancellationToken;
        stopFilter = new StopStringFilter(request.Stop);
        StartedAt = startedAt;
        EnqueuedAt = Stopwatch.GetTimestamp();
        Deadline = request.TimeBudgetMs is { } budget
            ? startedAt + (long)(budget * Stopwatch.Frequency / 1000)
            : long.MaxValue;
    }

    public GenerationRequest Request { get; }

    public int[] PromptTokens { get; }

    public CancellationToken CancellationToken { get; }

    public ChannelReader<GenerationChunk> Output => output.Reader;

    /// <summary>True when the caller cancelled or stopped reading.</summary>
    public bool IsCancelled => abandoned || CancellationToken.IsCancellationRequested;

    public bool IsFinished => finished;

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

    /// <summary>When the request's time budget runs out, as a <see cref="Stopwatch"/> timestamp (never, without one).</summary>
    public long Deadline { get; }

    public long EnqueuedAt { get; }

    public long AdmittedAt { get; set; }

    public long FirstTokenAt { get; set; }

    public long LastTokenAt { get; set; }

    public bool IsPrefilling => NextPromptIndex < PromptTokens.Length;

    /// <summary>Calls <paramref name="onCancelled"/> (on any thread) when the caller cancels.</summary>
    public void WatchCancellation(Action onCancelled) =>
        cancellationRegistration = CancellationToken.UnsafeRegister(static state => ((Action)state!).Invoke(), onCancelled);

    /// <summary>The caller stopped reading; the scheduler drops the job at its next step.</summary>
    public void Abandon() => abandoned = true;

    /// <summary>Feeds a generated token's bytes through the text pipeline; returns true when a stop string ended the text.</summary>
    public bool AppendTokenBytes(ReadOnlySpan<byte> bytes)
    {
        unsent.Append(stopFilter.Append(assembler.Append(bytes)));
        var now = Stopwatch.GetTimestamp();
        if (unsent.Length > 0 && now - lastChunkAt >= CoalesceTicks)
        {
            output.Writer.TryWrite(new GenerationChunk { Text = unsent.ToString() });
            unsent.Clear();
            lastChunkAt = now;
        }

        return stopFilter.Stopped;
    }

    /// <summary>Sends text held back by coalescing now (before a step that may take long).</summary>
    public void FlushUnsent()
    {
        if (unsent.Length > 0)
        {
            output.Writer.TryWrite(new GenerationChunk { Text = unsent.ToString() });
            unsent.Clear();
            lastChunkAt = Stopwatch.GetTimestamp();
        }
    }

    /// <summary>Ends the stream with the held-back text and the metrics.</summary>
    public void Complete(FinishReason reason)
    {
        if (finished)
        {
            return;
        }

        finished = true;
        if (!stopFilter.Stopped)
        {
            unsent.Append(stopFilter.Append(assembler.Flush())).Append(stopFilter.Flush());
        }

        if (unsent.Length > 0)
        {
            output.Writer.TryWrite(new GenerationChunk { Text = unsent.ToString() });
            unsent.Clear();
        }
        var now = Stopwatch.GetTimestamp();
        var firstToken = FirstTokenAt == 0 ? now : FirstTokenAt;
        var computedPromptTokens = PromptTokens.Length - ReusedTokens;
        var prefillSeconds = Stopwatch.GetElapsedTime(AdmittedAt == 0 ? EnqueuedAt : AdmittedAt, firstToken).TotalSeconds;
        var decodeSeconds = Stopwatch.GetElapsedTime(firstToken, LastTokenAt == 0 ? firstToken : LastTokenAt).TotalSeconds;
        var metrics = new GenerationMetrics
        {
            PromptTokens = PromptTokens.Length,
            ReusedPromptTokens = ReusedTokens,
            GeneratedTokens = GeneratedTokens,
            TimeToFirstTokenMs = FirstTokenAt == 0 ? 0 : Stopwatch.GetElapsedTime(StartedAt, FirstTokenAt).TotalMilliseconds,
            TotalMs = Stopwatch.GetElapsedTime(StartedAt, now).TotalMilliseconds,
            PrefillTokensPerSecond = FirstTokenAt == 0 || prefillSeconds <= 0 ? 0 : computedPromptTokens / prefillSeconds,
            DecodeTokensPerSecond = GeneratedTokens > 1 && decodeSeconds > 0 ? (GeneratedTokens - 1) / decodeSeconds : 0,
            FinishReason = reason,
            QueueMs = Stopwatch.GetElapsedTime(EnqueuedAt, AdmittedAt == 0 ? now : AdmittedAt).TotalMilliseconds,
            BatchSize = MaxBatchSequences,
        };
        output.Writer.TryWrite(new GenerationChunk { Metrics = metrics });
        output.Writer.TryComplete();
        Dispose();
    }

    /// <summary>Ends the stream with <paramref name="error"/> (cancellation ends it with <see cref="OperationCanceledException"/>).</summary>
    public void Fail(Exception error)
    {
        if (finished)
        {
            return;
        }

        finished = true;
        output.Writer.TryComplete(error);
        Dispose();
    }

    public void Dispose()
    {
        cancellationRegistration.Dispose();
        Sampler?.Dispose();
        Sampler = null;
    }
}
