using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;
using LLama.Exceptions;
using LLama.Native;
using Microsoft.Extensions.Logging;
using MoeMesh.Errors;
using MoeMesh.Generation;

namespace MoeMesh.Inference.Llama;

/// <summary>
/// One sequence of a llama.cpp context: its id, the tokens whose KV state it holds (in position
/// order), and the request using it, if any.
/// </summary>
internal sealed class LlamaSequenceSlot(int sequenceId)
{
    private volatile int[] publishedHistory = [];

    public int SequenceId { get; } = sequenceId;

    /// <summary>Tokens in the KV cache for this sequence, positions 0..Count-1.</summary>
    public List<int> History { get; } = [];

    public LlamaGenerationJob? Job { get; set; }

    public long LastUsed { get; set; }

    /// <summary>A copy of <see cref="History"/> taken when the slot was last released, readable from any thread.</summary>
    public int[] PublishedHistory => publishedHistory;

    public void PublishHistory() => publishedHistory = [.. History];
}

/// <summary>
/// Owns one llama.cpp context (LLamaSharp's <see cref="SafeLLamaContextHandle"/>) and the thread
/// that decodes on it. Requests wait in a queue until a
/// sequence is free; then every step builds one <see cref="LLamaBatch"/> holding the next token of each
/// generating sequence and chunks of the prompts still being read, decodes it once, and samples
/// each sequence with its own sampler chain. A request is placed in the free sequence whose cached
/// tokens share the longest prefix with its prompt, and only the tokens after that prefix are
/// computed. Cancelling one request removes it between steps and never disturbs the others; the
/// abort callback interrupts a prompt-reading step only when every request in it is cancelled, or
/// on shutdown.
/// </summary>
internal sealed unsafe class LlamaSequenceScheduler : IDisposable
{
    private readonly LlamaModel model;
    private readonly LlamaExpertSettings settings;
    private readonly ILogger logger;
    private readonly string expertId;
    private readonly SafeLLamaContextHandle context;
    private readonly LlamaSequenceSlot[] slots;
    private readonly ConcurrentQueue<LlamaGenerationJob> incoming = new();
    private readonly List<LlamaGenerationJob> waiting = [];
    private readonly List<LlamaGenerationJob> active = [];
    private readonly AutoResetEvent wakeUp = new(false);
    private readonly Thread thread;
    private readonly int* abortFlag;
    private readonly int batchCapacity;
    private readonly List<LlamaGenerationJob> stepJobs = [];
    private readonly Lock enqueueGate = new();
    // LLamaSharp pins every token slot a batch has ever held on each decode, so single-token steps
    // keep a batch of their own that never grows to prompt size.
    private readonly LLamaBatch decodeBatch = new();
    private readonly LLamaBatch prefillBatch = new();
    private LlamaGenerationJob[] inFlight = [];
    private bool abortCallbackInstalled;
    private int queuedCount;
    private volatile bool stopping;
    private bool disposed;

    private LlamaSequenceScheduler(LlamaModel model, LlamaExpertSettings settings, ILogger logger, string expertId, SafeLLamaContextHandle context, int index)
    {
        this.model = model;
        this.settings = settings;
        this.logger = logger;
        this.expertId = expertId;
        this.context = context;
        slots = [.. Enumerable.Range(0, settings.SequencesPerContext).Select(i => new LlamaSequenceSlot(i))];
        batchCapacity = (int)Math.Min((uint)settings.BatchSize, context.BatchSize);
        abortFlag = (int*)NativeMemory.AllocZeroed(sizeof(int));
        ContextTokens = (int)context.ContextSize;
        thread = new Thread(RunLoop) { IsBackground = true, Name = $"llama-decode {expertId}#{index}" };
        thread.Start();
    }

    /// <summary>KV cells of the context (all sequences together).</summary>
    public int ContextTokens { get; }

    /// <summary>Requests queued or running.</summary>
    public int Load => Volatile.Read(ref queuedCount);

    /// <summary>
    /// Creates the context: one KV stream per sequence (<c>kv_unified = false</c>), each as large as
    /// the expert's context window, so sequences never compete for cache cells. Returns null when
    /// llama.cpp cannot create it (usually not enough memory); its log says why.
    /// </summary>
    public static LlamaSequenceScheduler? Create(LlamaModel model, LlamaExpertSettings settings, ILogger logger, string expertId, int index)
    {
        var parameters = LLamaContextParams.Default();
        parameters.n_ctx = (uint)(settings.ContextSize * settings.SequencesPerContext);
        parameters.n_seq_max = (uint)settings.SequencesPerContext;
        parameters.n_batch = (uint)settings.BatchSize;
        parameters.n_ubatch = (uint)Math.Min(settings.BatchSize, 512);
        parameters.n_threads = settings.Threads;
        parameters.n_threads_batch = settings.BatchThreads;
        parameters.kv_unified = false;
        parameters.no_perf = true;
        SafeLLamaContextHandle handle;
        try
        {
            // The context holds a reference on the model, so the model is never freed first.
            handle = SafeLLamaContextHandle.Create(model.Handle, parameters);
        }
        catch (RuntimeError)
        {
            return null;
        }

        return new LlamaSequenceScheduler(model, settings, logger, expertId, handle, index);
    }

    /// <summary>Longest prefix of <paramref name="prompt"/> cached in any sequence, as of the last releases.</summary>
    public int CachedPrefixLength(int[] prompt) => slots.Max(s => CommonPrefix(s.PublishedHistory, prompt));

    /// <summary>Queues <paramref name="job"/>; throws <see cref="ExpertUnavailableException"/> when shut down or the queue is full.</summary>
    public void Enqueue(LlamaGenerationJob job)
    {
        // The gate orders this against Dispose: a job is either queued before shutdown (and then
        // failed by it) or refused here, never left behind in a queue nobody reads.
        lock (enqueueGate)
        {
            if (stopping)
            {
                throw new ExpertUnavailableException($"The expert '{expertId}' was unloaded.");
            }

            if (Interlocked.Increment(ref queuedCount) > settings.MaxQueuedRequests + settings.SequencesPerContext)
            {
                Interlocked.Decrement(ref queuedCount);
                throw new ExpertUnavailableException(
                    $"The expert '{expertId}' is overloaded: {settings.MaxQueuedRequests} requests are already waiting. Retry later or add replicas.");
            }

            job.WatchCancellation(() => OnJobCancelled());
            incoming.Enqueue(job);
        }

        wakeUp.Set();
    }

    public void Dispose()
    {
        if (disposed)
        {
            return;
        }

        disposed = true;
        lock (enqueueGate)
        {
            stopping = true;
        }

        Volatile.Write(ref *abortFlag, 1);
        wakeUp.Set();
        thread.Join();

        var unloaded = new ExpertUnavailableException($"The expert '{expertId}' was unloaded while the request was running.");
        foreach (var job in active.Concat(waiting).Concat(incoming))
        {
            job.Fail(unloaded);
        }

        context.Dispose();
        NativeMemory.Free(abortFlag);
        wakeUp.Dispose();
    }

    private void OnJobCancelled()
    {
        // Interrupt the running step only if nobody in it still wants its result.
        var running = Volatile.Read(ref inFlight);
        if (running.Length > 0 && running.All(j => j.IsCancelled))
        {
            Volatile.Write(ref *abortFlag, 1);
        }

        wakeUp.Set();
    }

    private void RunLoop()
    {
        while (!stopping)
        {
            try
            {
                while (incoming.TryDequeue(out var job))
                {
                    waiting.Add(job);
                }

                DropCancelled();
                Admit();
                if (active.Count == 0)
                {
                    wakeUp.WaitOne();
                    continue;
                }

                Step();
            }
            catch (Exception e)
            {
                // Never let one bad step take the thread (and every later request) down.
                LlamaEngineLog.StepFailed(logger, expertId, e);
                foreach (var job in active.ToList())
                {
                    Release(job, clearCache: true);
                    job.Fail(new ExpertUnavailableException($"The expert '{expertId}' failed while generating: {e.Message}", e));
                }
            }
        }
    }

    private void DropCancelled()
    {
        for (var i = waiting.Count - 1; i >= 0; i--)
        {
            if (waiting[i].IsCancelled)
            {
                var job = waiting[i];
                waiting.RemoveAt(i);
                Interlocked.Decrement(ref queuedCount);
                job.Fail(new OperationCanceledException(job.CancellationToken));
            }
        }

        for (var i = active.Count - 1; i >= 0; i--)
        {
            var job = active[i];
            if (job.IsCancelled)
            {
                Release(job, clearCache: false);
                job.Fail(new OperationCanceledException(job.CancellationToken));
            }
        }
    }

    private void Admit()
    {
        while (waiting.Count > 0)
        {
            var free = slots.Where(s => s.Job is null).ToList();
            if (free.Count == 0)
            {
                return;
            }

            var job = waiting[0];
            waiting.RemoveAt(0);

            // Best reuse first; among equals the least recently used sequence, to keep hot prefixes.
            var slot = free.OrderByDescending(s => CommonPrefix(s.History, job.PromptTokens)).ThenBy(s => s.LastUsed).First();
            var reuse = settings.ReusePromptPrefix ? Math.Min(CommonPrefix(slot.History, job.PromptTokens), job.PromptTokens.Length - 1) : 0;
            if (reuse < slot.History.Count)
            {
                if (model.IsRecurrent)
                {
                    // A recurrent memory cannot drop a suffix; start that sequence over.
                    reuse = 0;
                }

                context.MemorySequenceRemove((LLamaSeqId)slot.SequenceId, reuse, -1);
            }

            slot.History.RemoveRange(reuse, slot.History.Count - reuse);
            slot.Job = job;
            job.Slot = slot;
            job.ReusedTokens = reuse;
            job.NextPromptIndex = reuse;
            job.AdmittedAt = Stopwatch.GetTimestamp();
            active.Add(job);
            try
            {
                job.Sampler = LlamaSamplerChain.Create(job.Request.Sampling);
                if (job.Request.Sampling.RepetitionPenalty != 1f)
                {
                    // The penalty looks at recent tokens, the prompt's included.
                    var window = job.Request.Sampling.RepetitionLastN;
                    foreach (var token in job.PromptTokens.AsSpan(Math.Max(0, job.PromptTokens.Length - window)))
                    {
                        job.Sampler.Accept(token);
                    }
                }
            }
            catch (Exception e)
            {
                Release(job, clearCache: false);
                job.Fail(new ExpertUnavailableException($"The expert '{expertId}' could not set up sampling: {e.Message}", e));
            }
        }
    }

    private void Step()
    {
        var count = 0;
        var jobs = stepJobs;
        jobs.Clear();
        var decoding = active.Count(j => j.PendingToken is not null);
        var batch = decoding < batchCapacity && active.Any(j => j.IsPrefilling) ? prefillBatch : decodeBatch;
        batch.Clear();

        // Generating sequences first: one token each, so decoding never waits behind a long prompt.
        foreach (var job in active)
        {
            job.OutputIndex = -1;
            job.TokensInBatch = 0;
            if (job.PendingToken is { } token && count < batchCapacity)
            {
                job.OutputIndex = count;
                Add(job, token, output: true);
                jobs.Add(job);
            }
        }

        foreach (var job in active)
        {
            if (!job.IsPrefilling || count >= batchCapacity)
            {
                continue;
            }

            var take = Math.Min(job.PromptTokens.Length - job.NextPromptIndex, batchCapacity - count);
            for (var i = 0; i < take; i++)
            {
                var last = job.NextPromptIndex + i == job.PromptTokens.Length - 1;
                if (last)
                {
                    job.OutputIndex = count;
                }

                Add(job, job.PromptTokens[job.NextPromptIndex + i], output: last);
            }

            jobs.Add(job);
        }

        var hasPrefill = count > jobs.Count;
        foreach (var job in jobs)
        {
            job.MaxBatchSequences = Math.Max(job.MaxBatchSequences, jobs.Count);
        }

        if (hasPrefill)
        {
            // Reading a prompt can take a while; text held back for coalescing goes out first.
            foreach (var job in active)
            {
                job.FlushUnsent();
            }
        }

        // ggml calls the abort callback between every pair of graph nodes, and a call into managed
        // code is not free; it is installed only for steps that read prompts, the long ones. A
        // step of single tokens is short, so cancelling it just waits for its end.
        if (hasPrefill != abortCallbackInstalled)
        {
            if (hasPrefill)
            {
                NativeApi.llama_set_abort_callback(context, (nint)(delegate* unmanaged<nint, byte>)&OnAbortCheck, (nint)abortFlag);
            }
            else
            {
                NativeApi.llama_set_abort_callback(context, 0, 0);
            }

            abortCallbackInstalled = hasPrefill;
        }

        Volatile.Write(ref inFlight, [.. jobs]);
        // A full fence: the reset must not be reordered after the read of 'stopping'.
        Interlocked.Exchange(ref *abortFlag, 0);
        if (stopping)
        {
            return;
        }

        var result = (int)context.Decode(batch);
        Volatile.Write(ref inFlight, []);

        if (result != 0)
        {
            HandleDecodeFailure(result, jobs);
            return;
        }

        foreach (var job in jobs)
        {
            var slot = job.Slot!;
            if (job.PendingToken is { } fed)
            {
                slot.History.Add(fed);
                job.PendingToken = null;
            }
            else
            {
                slot.History.AddRange(job.PromptTokens.AsSpan(job.NextPromptIndex, job.TokensInBatch));
                job.NextPromptIndex += job.TokensInBatch;
            }

            if (job.OutputIndex >= 0)
            {
                var token = job.Sampler!.Sample(context, job.OutputIndex);
                OnTokenSampled(job, (int)token);
            }
        }

        void Add(LlamaGenerationJob job, int token, bool output)
        {
            batch.Add(token, job.Slot!.History.Count + job.TokensInBatch, (LLamaSeqId)job.Slot.SequenceId, output);
            job.TokensInBatch++;
            count++;
        }
    }

    private void OnTokenSampled(LlamaGenerationJob job, int token)
    {
        var now = Stopwatch.GetTimestamp();
        if (job.FirstTokenAt == 0)
        {
            job.FirstTokenAt = now;
        }

        job.LastTokenAt = now;
        job.GeneratedTokens++;

        if (model.IsEndOfGeneration(token))
        {
            Finish(job, FinishReason.EndOfText);
            return;
        }

        Span<byte> piece = stackalloc byte[128];
        var length = model.TokenToPiece(token, piece);
        var stopped = length >= 0 ? job.AppendTokenBytes(piece[..length]) : job.AppendTokenBytes(model.TokenBytes(token));
        if (stopped)
        {
            Finish(job, FinishReason.Stop);
        }
        else if (job.GeneratedTokens >= job.Request.MaxTokens)
        {
            Finish(job, FinishReason.MaxTokens);
        }
        else if (now >= job.Deadline)
        {
            // The budget is spent: the text so far is the answer, rather than none after a cancel.
            Finish(job, FinishReason.Budget);
        }
        else if (job.Slot!.History.Count + 1 >= settings.ContextSize)
        {
            // The token just sampled takes the window's last position: prompt plus output fill it.
            Finish(job, FinishReason.ContextFull);
        }
        else
        {
            job.PendingToken = token;
        }
    }

    private void HandleDecodeFailure(int result, List<LlamaGenerationJob> jobs)
    {
        // Whatever part of the batch reached the cache is dropped, so each sequence's history stays exact.
        foreach (var job in jobs)
        {
            context.MemorySequenceRemove((LLamaSeqId)job.Slot!.SequenceId, job.Slot.History.Count, -1);
        }

        if (result == 2)
        {
            // Aborted: every request in the step was cancelled, or the scheduler is stopping.
            return;
        }

        LlamaEngineLog.DecodeFailed(logger, expertId, result);
        var error = new ExpertUnavailableException(result == 1
            ? $"The expert '{expertId}' ran out of KV cache space (llama_decode returned 1)."
            : $"The expert '{expertId}' failed to decode (llama_decode returned {result}).");
        foreach (var job in jobs)
        {
            Release(job, clearCache: true);
            job.Fail(error);
        }
    }

    private void Finish(LlamaGenerationJob job, FinishReason reason)
    {
        Release(job, clearCache: false);
        job.Complete(reason);
    }

    private void Release(LlamaGenerationJob job, bool clearCache)
    {
        if (job.Slot is { } slot)
        {
            if (clearCache)
            {
                context.MemorySequenceRemove((LLamaSeqId)slot.SequenceId, -1, -1);
                slot.History.Clear();
            }

            slot.Job = null;
            slot.LastUsed = Stopwatch.GetTimestamp();
            slot.PublishHistory();
            job.Slot = null;
        }

        if (active.Remove(job))
        {
            Interlocked.Decrement(ref queuedCount);
        }
    }

    private static int CommonPrefix(IReadOnlyList<int> cached, int[] prompt)
    {
        var length = Math.Min(cached.Count, prompt.Length);
        var i = 0;
        while (i < length && cached[i] == prompt[i])
        {
            i++;
        }

        return i;
    }

    [UnmanagedCallersOnly]
    private static byte OnAbortCheck(nint flag) => Volatile.Read(ref *(int*)flag) != 0 ? (byte)1 : (byte)0;
}
